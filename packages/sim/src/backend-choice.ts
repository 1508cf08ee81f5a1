/**
 * Which Xen host a program talks to: the real devices, or a simulated host in a directory.
 * The CLI, the ping-pong example and any program with a `--backend sim|xen` switch pick a backend
 * the same way: the one asked for, else xen when /dev/xen/gntalloc exists, else sim.
 */
import { existsSync, statSync } from 'node:fs';
import { type DomId, openXenBackend, type XenBackend } from '@xenipc/core';
import { joinSimulatedHost } from './simulated-host/join-simulated-host.js';
import { SIM_DIR_ENV } from './simulated-host/sim-dir.js';

export type BackendKind = 'xen' | 'sim';

export interface BackendChoice {
  kind: BackendKind;
  /** Simulated host directory (sim only). */
  simDir?: string;
  /** Our own domid on the simulated host (sim only; real Xen tells us ours). */
  domid?: DomId;
}

/** What a user asked for, e.g. from `--backend`, `--sim-dir` and `--domid`. */
export interface BackendRequest {
  backend?: string | undefined;
  simDir?: string | undefined;
  domid?: number | undefined;
}

/** The request cannot be met as given (an unknown backend, no simulated host named, ...). */
export class BackendChoiceError extends Error {
  override readonly name = 'BackendChoiceError';
  readonly code = 'ERR_XENIPC_BACKEND_CHOICE';
}

export const GNTALLOC_DEVICE_PATH = '/dev/xen/gntalloc';

export function defaultBackendKind(gntallocPath = GNTALLOC_DEVICE_PATH): BackendKind {
  return existsSync(gntallocPath) ? 'xen' : 'sim';
}

/** Turn a request into a choice; throws BackendChoiceError on nonsense. `env` supplies XENIPC_SIM_DIR. */
export function chooseBackend(request: BackendRequest, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const requested = request.backend;
  if (requested !== undefined && requested !== 'xen' && requested !== 'sim') {
    throw new BackendChoiceError(`the backend must be sim or xen, got ${JSON.stringify(requested)}`);
  }
  const kind = requested ?? defaultBackendKind();
  if (kind === 'xen') {
    if (request.domid !== undefined) throw new BackendChoiceError('a domid applies to a simulated host only; on Xen the domain has its own id');
    return { kind };
  }
  const simDir = request.simDir || env[SIM_DIR_ENV];
  if (!simDir) {
    throw new BackendChoiceError(
      `no simulated host given and no Xen here (${GNTALLOC_DEVICE_PATH} is missing): start one with \`xenipc sim\` ` +
        `in another terminal and pass its directory (--sim-dir <dir>) or set ${SIM_DIR_ENV}; on Xen, choose the xen backend`,
    );
  }
  return request.domid === undefined ? { kind, simDir } : { kind, simDir, domid: request.domid };
}

/** Open the chosen backend. A simulated host must already be running in `simDir` (nothing is created). */
export async function openBackend(choice: BackendChoice): Promise<XenBackend> {
  if (choice.kind === 'xen') return openXenBackend();
  const dir = choice.simDir;
  if (dir !== undefined && !isDirectory(dir)) {
    throw new BackendChoiceError(`no simulated host at ${dir}: the directory does not exist (start one with \`xenipc sim ${dir}\`)`);
  }
  return joinSimulatedHost({ ...(dir === undefined ? {} : { dir }), ...(choice.domid === undefined ? {} : { domid: choice.domid }), autoStart: false });
}

export function describeBackend(backend: XenBackend, choice: BackendChoice): string {
  return choice.kind === 'sim' ? `simulated host ${choice.simDir ?? ''}, domain ${backend.domid}` : `Xen, domain ${backend.domid}`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
