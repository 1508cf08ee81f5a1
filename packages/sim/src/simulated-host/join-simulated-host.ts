/**
 * joinSimulatedHost(): become a domain of the simulated host serving `dir`, starting a detached
 * host daemon first if none is listening (autoStart, the default).
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { connectUnixSocket } from './connect-unix-socket.js';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DomId, XenError } from '@xenipc/core';
import { checkDomid } from '@xenipc/core/backend-kit';
import { EventLinks } from './event-links.js';
import { HostConnection } from './host-connection.js';
import type { HelloReply } from './host-protocol.js';
import { SimBackend } from './sim-backend.js';
import { defaultSimDir, hostSocketPath, prepareSimDir } from './sim-dir.js';
import { openSimXenStore } from './sim-xenstore-connection.js';

export interface JoinSimulatedHostOptions {
  /** Sim directory; default $XENIPC_SIM_DIR or `${os.tmpdir()}/xenipc-sim-<uid>`. */
  dir?: string;
  /** Ask for this domid (0 = privileged dom0); default: the host picks the next free one. */
  domid?: DomId;
  /** Start a detached host daemon if none is listening (default true). */
  autoStart?: boolean;
  /** How long to wait for an auto-started host to listen (default 15000 ms). */
  startTimeoutMs?: number;
}


/** Starts the detached daemon; the returned function tells whether it already failed (exit code != 0). */
function spawnHostDaemon(dir: string): () => number | undefined {
  const self = import.meta.url;
  const fromSource = self.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSource ? './host-entry.ts' : './host-entry.js', self));
  const args = fromSource ? ['--conditions=xenipc-source', '--import', 'tsx', entry, dir] : [entry, dir];
  // cwd next to the entry so that `--import tsx` resolves from this workspace's node_modules.
  const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore', cwd: dirname(entry) });
  let failure: number | undefined;
  child.on('error', () => (failure = -1));
  child.on('exit', (code) => (failure = code === 0 ? undefined : (code ?? -1)));
  child.unref();
  return () => failure;
}

async function connectHost(dir: string, autoStart: boolean, timeoutMs: number): Promise<Socket> {
  const path = hostSocketPath(dir);
  const deadline = Date.now() + timeoutMs;
  let daemonFailure: (() => number | undefined) | undefined;
  for (;;) {
    try {
      return await connectUnixSocket(path);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      const absent = code === 'ENOENT' || code === 'ECONNREFUSED';
      const failedWith = daemonFailure?.();
      if (failedWith !== undefined) {
        throw new XenError({ code: 'ECHILD', syscall: 'spawn', path, message: `the simulated host daemon for ${dir} exited with code ${failedWith} before listening`, cause });
      }
      if (!absent || !autoStart || Date.now() > deadline) {
        throw new XenError({
          code: code ?? 'EIO',
          syscall: 'connect',
          path,
          message: autoStart && absent
            ? `the simulated host started for ${dir} did not come up within ${timeoutMs} ms`
            : `no simulated Xen host at ${path} (start one with \`xenipc sim\` or join with autoStart)`,
          cause,
        });
      }
      daemonFailure ??= spawnHostDaemon(dir);
      await new Promise((resolve) => setTimeout(resolve, 25)); // start-up only, never on a hot path
    }
  }
}

export async function joinSimulatedHost(options: JoinSimulatedHostOptions = {}): Promise<SimBackend> {
  if (options.domid !== undefined) checkDomid(options.domid, 'hello');
  const dir = prepareSimDir(options.dir ?? defaultSimDir());
  let backend: SimBackend | undefined;
  const links = new EventLinks(dir, (from, port) => backend?.onEvent(from, port));
  links.listen();
  let host: HostConnection | undefined;
  try {
    host = new HostConnection(await connectHost(dir, options.autoStart ?? true, options.startTimeoutMs ?? 15_000));
    const hello = await host.request<HelloReply & Record<string, unknown>>('hello', { domid: options.domid, pid: process.pid, eventSocket: links.socketName });
    links.attach(hello.domid, hello.pendingPage);
    const xenstore = await openSimXenStore(dir, hello.token);
    backend = new SimBackend(hello.domid, host, links, xenstore, () => openSimXenStore(dir, hello.token));
    return backend;
  } catch (err) {
    host?.close();
    links.close();
    throw err;
  }
}
