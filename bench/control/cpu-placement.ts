/**
 * Where the two workers of a ping-pong run: unpinned ('free'), both on one CPU ('one-cpu'), or
 * one CPU each ('two-cpus'). On a small VM a round trip that sleeps costs about twice as much
 * when it must wake an idle vCPU as when both processes share one, whatever the transport, and
 * unpinned runs land on either; pinning both sides of a comparison the same way removes that
 * noise. Pinning uses `taskset -a -p` (util-linux; -a: every thread of the process) right before
 * a measurement, and puts each process back on the CPUs it had right after. The bare ring floor
 * runs as two threads of one process: withThreadApart() pins it (the affinity of a Linux thread
 * is its own, set with `taskset -p` on its thread id).
 */
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Placement = 'free' | 'one-cpu' | 'two-cpus';

/** The CPUs the pinned placements use, or why they cannot be measured here. */
export type PinningSupport = { cpus: [number, number] } | { unavailable: string };

/** Parses taskset's "pid 123's current affinity list: 0,2-3" into [0, 2, 3]. */
function parseCpuList(output: string): number[] {
  const list = output.slice(output.lastIndexOf(':') + 1).trim();
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || !Number.isInteger(from)) continue;
    for (let cpu = from; cpu <= (to ?? from); cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** The CPUs process `pid` may run on (`taskset -c -p`); throws if taskset cannot tell. */
export async function cpusOf(pid: number): Promise<number[]> {
  const { stdout } = await run('taskset', ['-c', '-p', String(pid)]);
  return parseCpuList(stdout);
}

async function affinityList(pid: number): Promise<string> {
  return (await cpusOf(pid)).join(',');
}

async function setAffinity(pid: number, cpus: string): Promise<void> {
  await run('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
}

/** Whether taskset works here and two CPUs are available to us (the first two are used). */
export async function pinningSupport(): Promise<PinningSupport> {
  let cpus: number[];
  try {
    cpus = await cpusOf(process.pid);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'taskset (util-linux) is not installed' : `taskset failed: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`;
    return { unavailable: reason };
  }
  const [first, second] = cpus;
  if (first === undefined || second === undefined) return { unavailable: `only one CPU available (${cpus.join(',')})` };
  return { cpus: [first, second] };
}

/** For tables: e.g. "two CPUs (A: 0, B: 1)"; `cpus` = the CPUs of A and B when pinned. */
export function describePlacement(placement: Placement, cpus: readonly [number, number] | null): string {
  const where = cpus === null ? '' : ` (A: ${cpus[0]}, B: ${cpus[1]})`;
  switch (placement) {
    case 'free':
      return 'unpinned';
    case 'one-cpu':
      return `one CPU${where}`;
    case 'two-cpus':
      return `two CPUs${where}`;
  }
}

/**
 * Runs `measure` with every thread of process `pid` on `processCpu` except thread `tid`, alone on
 * `threadCpu` (taskset -a -p, then taskset -p on the thread id), then puts every thread of the
 * process back on the CPU list it had (also when `measure` fails).
 */
export async function withThreadApart<T>(pid: number, processCpu: number, tid: number, threadCpu: number, measure: () => Promise<T>): Promise<T> {
  const previous = await affinityList(pid);
  try {
    await setAffinity(pid, String(processCpu));
    await run('taskset', ['-p', '-c', String(threadCpu), String(tid)]);
    return await measure();
  } finally {
    // A process left pinned would disturb every later measurement: fail loudly.
    await setAffinity(pid, previous).catch((error: unknown) => {
      throw new Error(`could not restore the CPU affinity of process ${pid}: ${String(error)}`);
    });
  }
}

/**
 * Runs `measure` with worker A (pids[0]) and worker B (pids[1]) placed as asked, then restores
 * each process's previous CPU list (also when `measure` fails).
 */
export async function withPlacement<T>(placement: Placement, pids: readonly number[], cpus: readonly [number, number], measure: () => Promise<T>): Promise<T> {
  if (placement === 'free') return measure();
  const [pidA, pidB] = pids;
  if (pidA === undefined || pidB === undefined) throw new Error(`placement ${placement} needs both workers' pids`);
  const targets = placement === 'one-cpu' ? [String(cpus[0]), String(cpus[0])] : [String(cpus[0]), String(cpus[1])];
  const previous = await Promise.all([affinityList(pidA), affinityList(pidB)]);
  try {
    await Promise.all([setAffinity(pidA, targets[0]!), setAffinity(pidB, targets[1]!)]);
    return await measure();
  } finally {
    const restored = await Promise.allSettled([setAffinity(pidA, previous[0]!), setAffinity(pidB, previous[1]!)]);
    const failed = restored.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    // A worker left pinned would disturb every later measurement: fail loudly.
    if (failed !== undefined) throw new Error(`could not restore the CPU affinity of a worker: ${String(failed.reason)}`);
  }
}

/**
 * The probes' PROBE_PIN (bench/tools/probe-*.ts): the first process on CPU 0, the second on
 * CPU 1, for the rest of their lives; `1` pins every thread of each (`taskset -a`), `main` only
 * the main threads (V8's and libuv's threads stay free to run on either CPU). Without PROBE_PIN
 * nothing is pinned.
 */
export function pinProbeProcessesIfAsked(first: ChildProcess, second: ChildProcess): void {
  const pin = process.env.PROBE_PIN;
  if (pin !== '1' && pin !== 'main') return;
  const every = pin === '1' ? ['-a'] : [];
  execFileSync('taskset', [...every, '-p', '-c', '0', String(first.pid)], { stdio: 'ignore' });
  execFileSync('taskset', [...every, '-p', '-c', '1', String(second.pid)], { stdio: 'ignore' });
}
