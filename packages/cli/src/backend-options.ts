/**
 * The CLI's --backend/--sim-dir/--domid flags, turned into a backend choice by @xenipc/sim's
 * chooseBackend(); its BackendChoiceError becomes a UsageError (exit code 2, usage hint).
 */
import { BackendChoiceError, chooseBackend as chooseFromRequest, type BackendChoice, type BackendChoiceProblem } from '@xenipc/sim';
import { UsageError } from './usage-error.js';

export { describeBackend, openBackend } from '@xenipc/sim';

export const BACKEND_HELP = `  --backend sim|xen  default: xen if /dev/xen/gntalloc exists, else sim
  --sim-dir <dir>    simulated host to join (default: env XENIPC_SIM_DIR; see \`xenipc sim\`)
  --domid <domid>    our own domid on a simulated host (default: the host assigns one)`;

/** The library's sentences, phrased with the flags a CLI user typed. */
const FLAG_WORDING: Record<BackendChoiceProblem, (message: string) => string> = {
  'unknown-backend': (message) => message.replace('the backend must', '--backend must'),
  'domid-on-xen': () => '--domid applies to a simulated host only; on Xen the domain has its own id',
  'no-sim-dir': (message) => message.replace('on Xen, choose the xen backend', 'on Xen, pass --backend xen'),
  'no-sim-host': (message) => message,
};

export function chooseBackend(
  values: { backend?: string | undefined; 'sim-dir'?: string | undefined; domid?: number | undefined },
  env: NodeJS.ProcessEnv,
): BackendChoice {
  try {
    return chooseFromRequest({ backend: values.backend, simDir: values['sim-dir'], domid: values.domid }, env);
  } catch (err) {
    if (err instanceof BackendChoiceError) throw new UsageError(FLAG_WORDING[err.problem](err.message));
    throw err;
  }
}
