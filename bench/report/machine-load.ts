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

/**
 * Two consecutive clock-tick fields of /proc/<pid>/stat, summed, in seconds (0 if it cannot be
 * read). Fields are numbered as in proc(5); counting starts after the ")" that ends the command
 * name, whose next field (state) is field 3.
 */
function statTicksSeconds(pid: number, field: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[field - 3]) + Number(fields[field - 2])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by process `pid` (utime + stime, fields 14 and 15), or 0. */
export function processCpuSeconds(pid: number): number {
  return statTicksSeconds(pid, 14);
}

/**
 * CPU seconds used so far by the children process `pid` has waited for, and theirs (cutime +
 * cstime, fields 16 and 17): the benchmark's short-lived helpers (the C ring's two processes,
 * the vCPU checks).
 */
export function reapedChildrenCpuSeconds(pid: number): number {
  return statTicksSeconds(pid, 16);
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
