/**
 * How fast each vCPU runs a plain compute loop right now, measured alone on each CPU in turn
 * (`taskset -c N`, one short node process each). On this kind of VM the host sometimes gives one
 * vCPU a fraction of a core for minutes at a time (for reasons outside the VM): the
 * same loop then takes ~1.6x as long on that vCPU, and every cell that needs both vCPUs at once
 * (pipelined RPC most of all) slows with it, while the load average shows nothing. The results
 * file records these checks around each workload, so a slow hour reads as one
 * (bench/ANALYSIS.md, "Pipelined RPC's two speeds: a slow vCPU").
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpusOf } from '../control/cpu-placement.js';
import type { VcpuSpeedCheck } from '../results-model.js';

const run = promisify(execFile);

/** How long the loop runs on each CPU (ms): long enough to leave start-up and JIT behind. */
const LOOP_MS = 300;

/** Multiply-adds over a 32 KiB array (L1-resident); prints ns per element. */
const LOOP_SOURCE = `
function nsPerElement(ms) {
  const a = new Float64Array(4096);
  let sum = 0, rounds = 0, t0 = 0;
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (rounds === 200) t0 = performance.now();
    for (let i = 0; i < 4096; i++) { a[i] = a[i] * 1.0000001 + i; sum += a[i]; }
    rounds++;
  }
  const timed = rounds - 200;
  return timed > 0 && sum > 0 ? ((performance.now() - t0) * 1e6) / (timed * 4096) : NaN;
}
process.stdout.write(String(nsPerElement(Number(process.argv[1]))));
`;

async function loopNsOn(cpu: number): Promise<number> {
  const { stdout } = await run('taskset', ['-c', String(cpu), process.execPath, '-e', LOOP_SOURCE, String(LOOP_MS)]);
  return Math.round(Number(stdout) * 1000) / 1000;
}

/** The CPUs this process may run on (from taskset), or undefined if taskset is not usable. */
async function allowedCpus(): Promise<number[] | undefined> {
  try {
    const cpus = await cpusOf(process.pid);
    return cpus.length > 0 ? cpus : undefined;
  } catch {
    return undefined;
  }
}

/** One check: the loop on each allowed CPU in turn; `at` says when (e.g. "start", "after stream"). */
export async function checkVcpuSpeeds(at: string): Promise<VcpuSpeedCheck> {
  const cpus = await allowedCpus();
  if (cpus === undefined) return { at, cpus: [], nsPerElement: [] };
  const nsPerElement: number[] = [];
  for (const cpu of cpus) nsPerElement.push(await loopNsOn(cpu).catch(() => Number.NaN));
  return { at, cpus, nsPerElement };
}

/** Slowest over fastest vCPU in a check (NaN without two measured CPUs). */
export function vcpuSpread(check: VcpuSpeedCheck): number {
  const measured = check.nsPerElement.filter(Number.isFinite);
  if (measured.length < 2) return Number.NaN;
  return Math.max(...measured) / Math.min(...measured);
}

/** Above this spread a check is reported as a slow vCPU. */
export const SLOW_VCPU_SPREAD = 1.25;

/** e.g. "start 0.91 / 0.92 ns; after rpc 0.90 / 1.52 ns (CPU 1 1.69x slower)". */
export function describeVcpuChecks(checks: readonly VcpuSpeedCheck[]): string {
  return checks
    .map((check) => {
      if (check.nsPerElement.length === 0) return `${check.at} not measured (no taskset)`;
      const values = check.nsPerElement.map((ns) => ns.toFixed(2)).join(' / ');
      const spread = vcpuSpread(check);
      if (!(spread > SLOW_VCPU_SPREAD)) return `${check.at} ${values} ns`;
      const slowest = check.cpus[check.nsPerElement.indexOf(Math.max(...check.nsPerElement.filter(Number.isFinite)))];
      return `${check.at} ${values} ns (CPU ${slowest} ${spread.toFixed(2)}x slower)`;
    })
    .join('; ');
}
