/**
 * Command-line flags and environment variables of `pnpm bench`:
 *
 *   --quick        | BENCH_QUICK=1        short run (< 1 min): 3 runs, short windows
 *   --runs=N       | BENCH_RUNS=N         interleaved runs per cell (quick 3, full 5)
 *   --only=LIST    | BENCH_ONLY=LIST      comma list of stream,pingpong,rpc,idle
 *   --sizes=LIST   | BENCH_SIZES=LIST     stream message sizes in bytes (default 16..1MiB)
 *   --out=DIR      | BENCH_OUT=DIR        where results go (default bench/results)
 *   --cpu-prof=DIR | BENCH_CPU_PROF=DIR   run the workers under node --cpu-prof, profiles in DIR
 */
import { fileURLToPath } from 'node:url';

export const WORKLOADS = ['stream', 'pingpong', 'rpc', 'idle'] as const;
export type Workload = (typeof WORKLOADS)[number];

export const DEFAULT_SIZES = [16, 64, 256, 1024, 4096, 65536, 1048576];
export const RING_SIZES = [65536, 1048576];

export interface BenchOptions {
  mode: 'quick' | 'full';
  runs: number;
  workloads: Set<Workload>;
  sizes: number[];
  ringSizes: number[];
  outDir: string;
  cpuProfDir: string | undefined;
  /** Timed window of one stream measurement, and its untimed warm-up on the same connection. */
  streamMs: number;
  streamWarmupMs: number;
  pingPongIterations: number;
  pingPongWarmup: number;
  rpcIterations: number;
  rpcWarmup: number;
  rpcPipelineMs: number;
  rpcPipelineWindow: number;
  idleMs: number;
}

function flag(argv: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  const hit = argv.find((a) => a === `--${name}` || a.startsWith(prefix));
  if (hit === undefined) return undefined;
  return hit.startsWith(prefix) ? hit.slice(prefix.length) : '1';
}

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const quickFlag = flag(argv, 'quick') ?? env.BENCH_QUICK;
  const quick = quickFlag !== undefined && quickFlag !== '0' && quickFlag !== '';
  const runs = Number(flag(argv, 'runs') ?? env.BENCH_RUNS ?? (quick ? 3 : 5));
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer`);
  const only = list(flag(argv, 'only') ?? env.BENCH_ONLY) ?? [...WORKLOADS];
  for (const w of only) if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`unknown workload ${w}; known: ${WORKLOADS.join(',')}`);
  const sizes = (list(flag(argv, 'sizes') ?? env.BENCH_SIZES) ?? DEFAULT_SIZES.map(String)).map(Number);
  for (const s of sizes) if (!Number.isInteger(s) || s < 16) throw new Error(`message sizes must be integers >= 16, got ${s}`);
  const defaultOut = fileURLToPath(new URL('./results', import.meta.url));
  return {
    mode: quick ? 'quick' : 'full',
    runs,
    workloads: new Set(only as Workload[]),
    sizes,
    ringSizes: RING_SIZES,
    outDir: flag(argv, 'out') ?? env.BENCH_OUT ?? defaultOut,
    cpuProfDir: flag(argv, 'cpu-prof') ?? env.BENCH_CPU_PROF,
    streamMs: quick ? 60 : 250,
    streamWarmupMs: quick ? 20 : 60,
    pingPongIterations: quick ? 2000 : 20000,
    pingPongWarmup: quick ? 500 : 2000,
    rpcIterations: quick ? 2000 : 20000,
    rpcWarmup: quick ? 500 : 2000,
    rpcPipelineMs: quick ? 200 : 1000,
    rpcPipelineWindow: 256,
    idleMs: quick ? 1000 : 3000,
  };
}
