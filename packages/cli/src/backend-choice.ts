/**
 * Which Xen host a command talks to: the real devices, or a simulated host in a directory.
 * Shared by the netcat commands, the proxy and the ping-pong example so that all of them pick a
 * backend the same way: --backend sim|xen, default xen when /dev/xen/gntalloc exists, else sim.
 */
import { existsSync } from 'node:fs';
import { joinSimulatedHost, openXenBackend, type XenBackend } from '@xenipc/core';
import { UsageError } from './usage-error.js';

export type BackendKind = 'xen' | 'sim';

export interface BackendChoice {
  kind: BackendKind;
  /** Simulated host directory (sim only). */
  simDir?: string;
  /** Our own domid on the simulated host (sim only; real Xen tells us ours). */
  domid?: number;
}

export const BACKEND_HELP = `  --backend sim|xen  default: xen if /dev/xen/gntalloc exists, else sim
  --sim-dir <dir>    simulated host to join (default: env XENIPC_SIM_DIR; see \`xenipc sim\`)
  --domid <domid>    our own domid on a simulated host (default: the host assigns one)`;

export function defaultBackendKind(gntallocPath = '/dev/xen/gntalloc'): BackendKind {
  return existsSync(gntallocPath) ? 'xen' : 'sim';
}

/** Turn the --backend/--sim-dir/--domid options into a choice; throws UsageError on nonsense. */
export function chooseBackend(
  values: { backend?: string | undefined; 'sim-dir'?: string | undefined; domid?: number | undefined },
  env: NodeJS.ProcessEnv,
): BackendChoice {
  const requested = values.backend;
  if (requested !== undefined && requested !== 'xen' && requested !== 'sim') {
    throw new UsageError(`--backend must be sim or xen, got ${JSON.stringify(requested)}`);
  }
  const kind = requested ?? defaultBackendKind();
  if (kind === 'xen') {
    if (values.domid !== undefined) throw new UsageError('--domid applies to a simulated host only; on Xen the domain has its own id');
    return { kind };
  }
  const simDir = values['sim-dir'] || env['XENIPC_SIM_DIR'];
  if (!simDir) {
    throw new UsageError(
      'no simulated host given and no Xen here (/dev/xen/gntalloc is missing): start one with `xenipc sim` ' +
        'in another terminal and pass --sim-dir <dir> or set XENIPC_SIM_DIR; on Xen, pass --backend xen',
    );
  }
  return values.domid === undefined ? { kind, simDir } : { kind, simDir, domid: values.domid };
}

export async function openBackend(choice: BackendChoice): Promise<XenBackend> {
  if (choice.kind === 'xen') return openXenBackend();
  return joinSimulatedHost({ ...(choice.simDir === undefined ? {} : { dir: choice.simDir }), ...(choice.domid === undefined ? {} : { domid: choice.domid }), autoStart: false });
}

export function describeBackend(backend: XenBackend, choice: BackendChoice): string {
  return choice.kind === 'sim' ? `simulated host ${choice.simDir}, domain ${backend.domid}` : `Xen, domain ${backend.domid}`;
}
