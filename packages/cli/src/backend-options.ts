/**
 * The CLI's --backend/--sim-dir/--domid flags, turned into a backend choice by @xenipc/sim's
 * chooseBackend(); its BackendChoiceError becomes a UsageError (exit code 2, usage hint).
 */
import { BackendChoiceError, chooseBackend as chooseFromRequest, type BackendChoice } from '@xenipc/sim';
import { UsageError } from './usage-error.js';

export { describeBackend, openBackend } from '@xenipc/sim';

export const BACKEND_HELP = `  --backend sim|xen  default: xen if /dev/xen/gntalloc exists, else sim
  --sim-dir <dir>    simulated host to join (default: env XENIPC_SIM_DIR; see \`xenipc sim\`)
  --domid <domid>    our own domid on a simulated host (default: the host assigns one)`;

export function chooseBackend(
  values: { backend?: string | undefined; 'sim-dir'?: string | undefined; domid?: number | undefined },
  env: NodeJS.ProcessEnv,
): BackendChoice {
  try {
    return chooseFromRequest({ backend: values.backend, simDir: values['sim-dir'], domid: values.domid }, env);
  } catch (err) {
    if (err instanceof BackendChoiceError) throw new UsageError(err.message);
    throw err;
  }
}
