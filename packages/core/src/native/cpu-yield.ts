/**
 * sched_yield() for waiters that spin on shared memory: once a spin has run a while, it gives
 * the CPU away between its checks, so that a peer runnable on the same CPU (both domain
 * processes of the simulated host on one vCPU, or a busy machine) makes the progress the spin
 * waits for, instead of being kept off that CPU by it. Where nothing else is runnable the call
 * returns at once (~1.6 us here, a system call through N-API).
 */
import { loadAddon } from './load-addon.js';

/** undefined: not looked up yet; null: the addon cannot be loaded, or is an older build without
 * yieldCpu (XENIPC_ADDON can name any file). */
let yieldCpu: (() => void) | null | undefined;

/** The addon's sched_yield(), looked up once; undefined without the addon (a spin then just spins). */
export function loadCpuYield(): (() => void) | undefined {
  if (yieldCpu === undefined) {
    try {
      const addon = loadAddon();
      yieldCpu = typeof addon.yieldCpu === 'function' ? addon.yieldCpu : null;
    } catch {
      yieldCpu = null;
    }
  }
  return yieldCpu ?? undefined;
}
