/**
 * Where a simulated host lives. The sim directory holds exactly one file, the host's Unix socket
 * `host.sock`. Everything else is either abstract Unix sockets (no file, released by the kernel
 * when the process dies) or memfds (no name at all), so a crashed run leaves nothing behind that
 * could confuse the next one.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Environment variable naming the sim directory (default: `${os.tmpdir()}/xenipc-sim-<uid>`). */
export const SIM_DIR_ENV = 'XENIPC_SIM_DIR';
export const HOST_SOCKET_NAME = 'host.sock';

export function defaultSimDir(): string {
  const fromEnv = process.env[SIM_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return join(tmpdir(), `xenipc-sim-${process.getuid?.() ?? 'user'}`);
}

/** Creates the directory (private to this user) and returns its canonical path. */
export function prepareSimDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return realpathSync(dir);
}

export function hostSocketPath(dir: string): string {
  return join(dir, HOST_SOCKET_NAME);
}

function dirKey(dir: string): string {
  return createHash('sha256').update(dir).digest('hex').slice(0, 24);
}

/**
 * Abstract socket the host binds first, as a lock: binding is atomic and the kernel releases it
 * when the host dies, so "host.sock exists but nobody holds the lock" means host.sock is stale.
 */
export function hostLockName(dir: string): string {
  return `\0xenipc-sim-lock-${dirKey(dir)}`;
}

export const EVENT_SOCKET_PREFIX = '\0xenipc-sim-evt-';

/** Abstract socket on which one domain process receives event-channel notifications. */
export function eventSocketName(dir: string, pid: number, nonce: string): string {
  return `${EVENT_SOCKET_PREFIX}${dirKey(dir)}-${pid}-${nonce}`;
}
