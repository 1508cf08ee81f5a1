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

/** Why a request cannot be met: an unknown backend, a domid on Xen, no host named, no host there. */
export type BackendChoiceProblem = 'unknown-backend' | 'domid-on-xen' | 'no-sim-dir' | 'no-sim-host';

/** The request cannot be met as given; `problem` says which part (a CLI names its flag). */
export class BackendChoiceError extends Error {
  override readonly name = 'BackendChoiceError';
  readonly code = 'ERR_XENIPC_BACKEND_CHOICE';
  constructor(readonly problem: BackendChoiceProblem, message: string) {
    super(message);
  }
}

export const GNTALLOC_DEVICE_PATH = '/dev/xen/gntalloc';

export function defaultBackendKind(gntallocPath = GNTALLOC_DEVICE_PATH): BackendKind {
  return existsSync(gntallocPath) ? 'xen' : 'sim';
}

/** Turn a request into a choice; throws BackendChoiceError on nonsense. `env` supplies XENIPC_SIM_DIR. */
export function chooseBackend(request: BackendRequest, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const requested = request.backend;
  if (requested !== undefined && requested !== 'xen' && requested !== 'sim') {
    throw new BackendChoiceError('unknown-backend', `the backend must be sim or xen, got ${JSON.stringify(requested)}`);
  }
  const kind = requested ?? defaultBackendKind();
  if (kind === 'xen') {
    if (request.domid !== undefined) throw new BackendChoiceError('domid-on-xen', 'a domid applies to a simulated host only; on Xen the domain has its own id');
    return { kind };
  }
  const simDir = request.simDir || env[SIM_DIR_ENV];
  if (!simDir) {
    throw new BackendChoiceError(
      'no-sim-dir',
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
    throw new BackendChoiceError('no-sim-host', `no simulated host at ${dir}: the directory does not exist (start one with \`xenipc sim ${dir}\`)`);
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
