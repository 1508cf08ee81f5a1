/**
 * A temp directory laid out like the /proc, /sys and /dev of a Xen domU, for `xenipc doctor
 * --root`. Devices are plain files (doctor only opens them); /dev/xen/xenbus is a Unix socket
 * served by a tiny fake xenstored that answers XS_READ, as xenstored's socket does in dom0.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface FakeXenDomainOptions {
  /** What xenstore answers to a read of "domid"; 'silent' never answers. Default 7. */
  xenstore?: number | 'silent' | 'absent';
  /** Leave out gntalloc: its device, its /proc/modules line and its /sys/module dir. */
  withoutGntalloc?: boolean;
  gntallocLimit?: number;
}

export interface FakeXenDomain {
  root: string;
  /** How many xenstore requests the fake xenstored received. */
  xenstoreRequests(): number;
  close(): Promise<void>;
}

const XS_READ = 2;

function serveXenstore(socket: Socket, domid: number | 'silent', onRequest: () => void): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 16 && pending.length >= 16 + pending.readUInt32LE(12)) {
      const header = pending.subarray(0, 16);
      const type = header.readUInt32LE(0);
      pending = pending.subarray(16 + header.readUInt32LE(12));
      onRequest();
      if (domid === 'silent' || type !== XS_READ) continue;
      const body = Buffer.from(String(domid));
      const reply = Buffer.alloc(16);
      reply.writeUInt32LE(XS_READ, 0);
      reply.writeUInt32LE(header.readUInt32LE(4), 4);
      reply.writeUInt32LE(0, 8);
      reply.writeUInt32LE(body.length, 12);
      socket.write(Buffer.concat([reply, body]));
    }
  });
  socket.on('error', () => undefined);
}

export async function createFakeXenDomain(options: FakeXenDomainOptions = {}): Promise<FakeXenDomain> {
  // Short path: a Unix socket path must fit in 108 bytes.
  const root = await mkdtemp(join(tmpdir(), 'xd-'));
  const file = async (path: string, content = '') => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };
  const modules = ['xen_gntdev', 'xen_evtchn', ...(options.withoutGntalloc ? [] : ['xen_gntalloc'])];
  await file('/sys/hypervisor/type', 'xen\n');
  await file('/proc/xen/capabilities', '');
  await file('/proc/modules', modules.map((m) => `${m} 40960 0 - Live 0x0000000000000000\n`).join(''));
  for (const m of modules) await mkdir(join(root, 'sys/module', m), { recursive: true });
  if (!options.withoutGntalloc) {
    await file('/sys/module/xen_gntalloc/parameters/limit', `${options.gntallocLimit ?? 1024}\n`);
    await file('/dev/xen/gntalloc');
  }
  await file('/dev/xen/gntdev');
  await file('/dev/xen/evtchn');

  let requests = 0;
  let server: Server | undefined;
  const xenstore = options.xenstore ?? 7;
  if (xenstore !== 'absent') {
    const sockets = new Set<Socket>();
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      serveXenstore(socket, xenstore, () => requests++);
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(join(root, 'dev/xen/xenbus'), resolve);
    });
    const close = listening.close.bind(listening);
    listening.close = (cb) => {
      for (const s of sockets) s.destroy();
      return close(cb);
    };
  }
  return {
    root,
    xenstoreRequests: () => requests,
    async close() {
      if (server) await new Promise((resolve) => server.close(resolve));
      await rm(root, { recursive: true, force: true });
    },
  };
}
