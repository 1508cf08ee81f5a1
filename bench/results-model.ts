/** The shape of a benchmark run's results, as written to bench/results/*.json. */
import type { Placement } from './control/cpu-placement.js';

/**
 * 'unix-socket-unbatched': one write() per message, the naive use, shown for reference.
 * 'memcpy': one copy per message in one thread; 'two-copy': copy in and copy out through a shared
 * ring between two spinning threads, no framing or events (the ceiling for a ring whose reader
 * must copy out before parsing). 'c-ring': libxenvchan's io.c algorithm in C between two processes
 * over the vchan layout, publishing like xenipc (transports/c-ring.ts); 'c-ring-per-message': the
 * same with every frame published (one libxenvchan_write() per message). 'xenipc-claim': xenipc
 * with the message built in the ring (MessageChannel claim/commit) instead of send().
 */
export type StreamTransport = 'xenipc' | 'xenipc-claim' | 'unix-socket' | 'unix-socket-unbatched' | 'child-ipc' | 'memcpy' | 'two-copy' | 'c-ring' | 'c-ring-per-message';

/**
 * Where the host ran the two vCPUs during one measurement, from the cache-line round trip
 * between them before and after it (control/cache-line-round-trip.ts): 'near' (both under
 * NEAR_ROUND_TRIP_NS), 'far' (both over), 'changed' (one of each), 'unknown' (not measured).
 */
export type VcpuProximity = 'near' | 'far' | 'changed' | 'unknown';

/** A measurement with the cache-line round trips (ns) taken right before and right after it. */
export interface ProximityChecked {
  cacheLineRoundTripNs?: [number, number];
}

export interface StreamRun extends ProximityChecked {
  messages: number;
  seconds: number;
  /** Payload bytes per second / 10^6 (framing not counted). */
  mbPerSec: number;
  msgPerSec: number;
}

export interface StreamCell {
  transport: StreamTransport;
  /** Ring size for xenipc and the memcpy and two-copy ceilings; null where it does not apply. */
  ringBytes: number | null;
  size: number;
  runs: StreamRun[];
  medianMbPerSec: number;
  medianMsgPerSec: number;
  errors: string[];
}

export interface LatencyRun extends ProximityChecked {
  p50Ns: number;
  p99Ns: number;
  samples: number;
}

export interface PingPongCell {
  /**
   * 'bare-ring': the bare ring floor, two spinning threads of one process bouncing the same frame
   * over the vchan layout with nothing but the copies and index updates (see
   * transports/bare-ring-floor.ts); its "A" is the echo thread, its "B" the timing thread.
   */
  transport: 'xenipc' | 'unix-socket' | 'child-ipc' | 'bare-ring';
  /** xenipc only: busy-poll before sleeping (true) or event channel only (false). */
  spin: boolean | null;
  /**
   * Where the two workers ran: 'free' = unpinned (the targets use these cells), 'one-cpu' = both
   * pinned to the first CPU, 'two-cpus' = A on the first CPU, B on the second (taskset).
   */
  placement: Placement;
  /** Pinned cells: the CPU of worker A and of worker B; null when unpinned. */
  cpus: [number, number] | null;
  size: number;
  runs: LatencyRun[];
  medianP50Ns: number;
  medianP99Ns: number;
  errors: string[];
}

export interface RpcRun extends LatencyRun {
  pipelinedCallsPerSec: number;
}

export interface RpcCell {
  transport: 'rpc-xenipc' | 'rpc-unix-socket';
  /** xenipc only: the channel's spin option (true = its default spinMicros, false = 0). */
  spin: boolean | null;
  runs: RpcRun[];
  medianP50Ns: number;
  medianP99Ns: number;
  medianCallsPerSec: number;
  errors: string[];
}

export interface IdleCell extends ProximityChecked {
  /** What sat idle: e.g. "xenipc (event-only)". */
  label: string;
  seconds: number;
  /** Percent of one core, per process: worker A (listener), worker B (connector), orchestrator. */
  cpuPercentA: number;
  cpuPercentB: number;
  /** The orchestrator, which hosts the simulated Xen host (xenstore, event relay) if any. */
  cpuPercentHost: number;
  errors: string[];
}

export interface TargetResult {
  name: string;
  wanted: string;
  measured: string;
  /** null when it could not be measured, or for a reference row without a target. */
  met: boolean | null;
  /** Shown for comparison, not a project target. */
  reference?: boolean;
}

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  os: string;
  node: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  /** All CPUs, percent busy during one second before the benchmark started (other load). */
  busyPercentBeforeStart: number;
  /**
   * CPU used by processes other than this benchmark while it ran, in percent of the machine
   * (all CPUs): machine-wide busy time minus the orchestrator's and the workers' own.
   */
  otherLoadPercentDuringRun: number;
}

/** One check of report/vcpu-speed.ts: a fixed compute loop alone on each CPU, ns per element. */
export interface VcpuSpeedCheck {
  /** When: "start", "after stream", ... */
  at: string;
  cpus: number[];
  /** Per CPU, in the order of `cpus` (lower is faster; NaN where the check failed). */
  nsPerElement: number[];
}

export interface BenchReport {
  date: string;
  mode: 'quick' | 'full';
  machine: MachineInfo;
  settings: Record<string, unknown>;
  stream: StreamCell[];
  pingPong: PingPongCell[];
  rpc: RpcCell[];
  idle: IdleCell[];
  /** vCPU speed checks at the start, after each workload and at the end. */
  vcpuSpeed: VcpuSpeedCheck[];
  targets: TargetResult[];
  notes: string[];
  wallSeconds: number;
}
