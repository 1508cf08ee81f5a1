/**
 * How busy the machine was just before the benchmark started, from /proc/stat over a short
 * window. With 2 vCPUs, anything else running (a QEMU, a test suite) takes a core away from the
 * two workers and punishes spinning in particular; the results file says so next to the numbers.
 */
import { readFileSync } from 'node:fs';

function cpuTimes(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by process `pid` (user + system), or 0 if it cannot be read. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds used so far by the children process `pid` has waited for, and theirs (cutime +
 * cstime): the benchmark's short-lived helpers (the C ring's two processes, the vCPU checks).
 */
export function reapedChildrenCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** USER_HZ: 100 on every mainstream Linux architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Machine-wide busy CPU seconds since boot, from /proc/stat (NaN where unavailable). */
export function machineBusySeconds(): number {
  const times = cpuTimes();
  return times === undefined ? Number.NaN : times.busy / CLOCK_TICKS_PER_SECOND;
}

/** Percent of all CPUs busy over `ms` (NaN where /proc/stat is unavailable). */
export async function machineBusyPercent(ms: number): Promise<number> {
  const before = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = cpuTimes();
  if (before === undefined || after === undefined || after.total === before.total) return Number.NaN;
  return Math.round((1000 * (after.busy - before.busy)) / (after.total - before.total)) / 10;
}
