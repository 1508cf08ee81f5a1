/**
 * connectXenStore(): a xenstore client for REAL Xen. Like libxenstore, it uses the xenstored
 * Unix socket when there is one (dom0, or a domain running its own xenstored) and the
 * /dev/xen/xenbus device otherwise (a domU: the kernel forwards to xenstored over the shared
 * ring). Relative paths then resolve under /local/domain/<our domid>/ on the daemon's side.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { XenError } from '../xen-error.js';
import { XenbusDeviceStream } from './xenbus-device-stream.js';
import { XenStoreClient } from './xs-client.js';

export const XENSTORED_SOCKET_PATH = '/var/run/xenstored/socket';
export const XENBUS_DEVICE_PATHS: readonly string[] = ['/dev/xen/xenbus', '/proc/xen/xenbus'];

export interface ConnectXenStoreOptions {
  /** A xenstored socket or a xenbus device; default: the socket if present, else the device. */
  path?: string;
}

function isCharacterDevicePath(path: string): boolean {
  return path.startsWith('/dev/') || path.startsWith('/proc/');
}

function connectSocket(path: string): Promise<XenStoreClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(new XenStoreClient(socket, path));
    });
    socket.once('error', reject);
  });
}

export async function connectXenStore(options: ConnectXenStoreOptions = {}): Promise<XenStoreClient> {
  const candidates = options.path !== undefined ? [options.path] : [XENSTORED_SOCKET_PATH, ...XENBUS_DEVICE_PATHS];
  const path = candidates.find((candidate) => existsSync(candidate));
  if (path === undefined) {
    throw new XenError({
      code: 'ENOENT',
      syscall: 'open',
      path: candidates[0],
      message: `no xenstore here: none of ${candidates.join(', ')} exists (is this a Xen domain with xenstore running?)`,
    });
  }
  try {
    if (isCharacterDevicePath(path)) {
      return new XenStoreClient(await XenbusDeviceStream.open(path), { description: path, watchNeedsQuietConnection: true });
    }
    return await connectSocket(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'EIO';
    throw new XenError({ code, syscall: 'open', path, message: `cannot connect to xenstore at ${path}: ${(cause as Error).message}`, cause });
  }
}
