/**
 * Runs every selected workload, interleaved: within each run, every transport is measured for a
 * given message size before the next size, and the order of transports rotates from run to run.
 * The two vCPUs here migrate between host cores and cross-core latency changes several-fold from
 * minute to minute, so only measurements taken close together in time are compared; each
 * measurement also records that latency right before and after it (control/cache-line-round-trip.ts).
 */
import { measureCacheLineRoundTrip } from '../control/cache-line-round-trip.js';
import { pinningSupport, withPlacement, type Placement } from '../control/cpu-placement.js';
import type { IdleCell, PingPongCell, ProximityChecked, RpcCell, StreamCell, StreamRun } from '../results-model.js';
import { median } from '../stats.js';
import { pairFor, type BenchContext } from './bench-context.js';
import { measureIdle } from './idle.js';
import { measureBareRingFloor, measurePingPong } from './ping-pong.js';
import { measureRpc } from './rpc.js';
import { measureCRingBaseline, measureMemcpyCeiling, measureStream, measureTwoCopyCeiling } from './stream.js';
import { xenipcPublishBytes } from '../transports/c-ring.js';

/** A measurement that has not answered after this long is abandoned (and its pair with it). */
const MEASUREMENT_TIMEOUT_MS = 60_000;

interface Step<Run> {
  family: 'xenipc' | 'baseline';
  cells: { runs: Run[]; errors: string[] };
  measure: () => Promise<Run>;
  label: string;
}

function rotate<T>(items: T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The cache-line round trip between the two vCPUs now (NaN without the probe). */
function roundTripNow(context: BenchContext): Promise<number> {
  const probe = context.cacheLineProbe;
  return 'path' in probe ? measureCacheLineRoundTrip(probe) : Promise.resolve(Number.NaN);
}

async function runStep<Run extends ProximityChecked>(context: BenchContext, step: Step<Run>): Promise<Run | undefined> {
  if (step.family === 'xenipc' && context.xenipcUnavailable !== undefined) {
    if (step.cells.errors.length === 0) step.cells.errors.push(`not measured: ${context.xenipcUnavailable}`);
    return undefined;
  }
  try {
    const before = await roundTripNow(context);
    const run = await withTimeout(step.measure(), MEASUREMENT_TIMEOUT_MS, step.label);
    if ('path' in context.cacheLineProbe) run.cacheLineRoundTripNs = [before, await roundTripNow(context)];
    step.cells.runs.push(run);
    return run;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    step.cells.errors.push(message);
    progress(`  ${step.label}: FAILED ${message.split('\n')[0]}`);
    // xenipc is the code under test and may be unfinished: after a timeout or repeated failures,
    // stop trying it so the baselines still complete.
    if (step.family === 'xenipc' && (message.includes('no answer after') || step.cells.errors.length >= 2)) {
      context.xenipcUnavailable = `gave up after: ${message.split('\n')[0]}`;
      const pair = context.pairs.xenipc;
      context.pairs.xenipc = undefined;
      await pair?.close().catch(() => undefined);
    }
    return undefined;
  }
}

function streamCell(transport: StreamCell['transport'], ringBytes: number | null, size: number): StreamCell {
  return { transport, ringBytes, size, runs: [], medianMbPerSec: Number.NaN, medianMsgPerSec: Number.NaN, errors: [] };
}

export async function runStreams(context: BenchContext): Promise<StreamCell[]> {
  const { options } = context;
  const cells: StreamCell[] = [];
  const stepsBySize = options.sizes.map((size) => {
    const steps: Step<StreamRun>[] = [];
    for (const ring of options.ringSizes) {
      const cell = streamCell('xenipc', ring, size);
      cells.push(cell);
      steps.push({ family: 'xenipc', cells: cell, label: `xenipc ring ${ring} size ${size}`, measure: () => measureStream(context, 'xenipc', size, { ringBytes: ring }) });
      // A claim must fit the ring whole: larger messages can only go through send().
      if (size + 4 > ring) continue;
      const claimCell = streamCell('xenipc-claim', ring, size);
      cells.push(claimCell);
      steps.push({ family: 'xenipc', cells: claimCell, label: `xenipc claim ring ${ring} size ${size}`, measure: () => measureStream(context, 'xenipc', size, { ringBytes: ring, claim: true }) });
    }
    for (const transport of ['unix-socket', 'child-ipc'] as const) {
      const cell = streamCell(transport, null, size);
      cells.push(cell);
      steps.push({ family: 'baseline', cells: cell, label: `${transport} size ${size}`, measure: () => measureStream(context, transport, size, {}) });
    }
    const unbatched = streamCell('unix-socket-unbatched', null, size);
    cells.push(unbatched);
    steps.push({
      family: 'baseline',
      cells: unbatched,
      label: `unix-socket-unbatched size ${size}`,
      measure: () => measureStream(context, 'unix-socket', size, { oneWritePerMessage: true }),
    });
    for (const ring of options.ringSizes) {
      const cell = streamCell('memcpy', ring, size);
      cells.push(cell);
      steps.push({ family: 'baseline', cells: cell, label: `memcpy ring ${ring} size ${size}`, measure: () => measureMemcpyCeiling(context, size, ring) });
    }
    for (const ring of options.ringSizes) {
      const cell = streamCell('two-copy', ring, size);
      cells.push(cell);
      steps.push({ family: 'baseline', cells: cell, label: `2-copy ring ${ring} size ${size}`, measure: () => measureTwoCopyCeiling(context, size, ring) });
    }
    if (!('unavailable' in context.cRing)) {
      for (const ring of options.ringSizes) {
        const cell = streamCell('c-ring', ring, size);
        cells.push(cell);
        steps.push({ family: 'baseline', cells: cell, label: `C ring ${ring} size ${size}`, measure: () => measureCRingBaseline(context, size, ring, false) });
        // Per-message publication differs from the batched policy only for frames under its interval.
        if (size + 4 >= xenipcPublishBytes(ring)) continue;
        const perMessage = streamCell('c-ring-per-message', ring, size);
        cells.push(perMessage);
        steps.push({ family: 'baseline', cells: perMessage, label: `C ring 1 publish/msg ${ring} size ${size}`, measure: () => measureCRingBaseline(context, size, ring, true) });
      }
    }
    return steps;
  });
  for (let run = 0; run < options.runs; run++) {
    for (const [index, steps] of stepsBySize.entries()) {
      const parts: string[] = [];
      for (const step of rotate(steps, run + index)) {
        const result = await runStep(context, step);
        if (result !== undefined) parts.push(`${step.label.replace(/ size \d+$/, '')} ${result.mbPerSec.toFixed(0)} MB/s`);
      }
      progress(`stream run ${run + 1}/${options.runs} size ${options.sizes[index]}: ${parts.join(', ')}`);
    }
  }
  for (const cell of cells) {
    cell.medianMbPerSec = median(cell.runs.map((r) => r.mbPerSec));
    cell.medianMsgPerSec = median(cell.runs.map((r) => r.msgPerSec));
  }
  return cells;
}

export const PING_PONG_SIZE = 64;

/**
 * Ping-pong: the unpinned cells (the targets use them), then, where taskset and two CPUs are
 * available, the same comparison with both workers pinned to one CPU and to two CPUs (see
 * control/cpu-placement.ts). Spinning is not measured on one CPU: the spinner would hold the
 * only CPU its peer needs to answer. The bare ring floor (two threads of the memcpy worker, see
 * transports/bare-ring-floor.ts) follows xenipc spinning in each placement it is measured in,
 * so that the two are taken next to each other in most runs. All cells rotate together within
 * each run.
 */
export async function runPingPongs(context: BenchContext): Promise<PingPongCell[]> {
  const { options } = context;
  const support = await pinningSupport();
  const make = (transport: PingPongCell['transport'], spin: boolean | null, placement: Placement): PingPongCell => ({
    transport,
    spin,
    placement,
    cpus: placement === 'free' || !('cpus' in support) ? null : placement === 'one-cpu' ? [support.cpus[0], support.cpus[0]] : support.cpus,
    size: PING_PONG_SIZE,
    runs: [],
    medianP50Ns: Number.NaN,
    medianP99Ns: Number.NaN,
    errors: [],
  });
  const cells = [make('xenipc', true, 'free'), make('bare-ring', null, 'free'), make('xenipc', false, 'free'), make('unix-socket', null, 'free'), make('child-ipc', null, 'free')];
  if ('cpus' in support) {
    cells.push(make('xenipc', false, 'one-cpu'), make('unix-socket', null, 'one-cpu'));
    cells.push(make('xenipc', true, 'two-cpus'), make('bare-ring', null, 'two-cpus'), make('xenipc', false, 'two-cpus'), make('unix-socket', null, 'two-cpus'));
  } else {
    context.notes.push(`Ping-pong with pinned CPUs (one CPU / two CPUs) was skipped: ${support.unavailable}.`);
  }
  const steps = cells.map(
    (cell): Step<PingPongCell['runs'][number]> => ({
      family: cell.transport === 'xenipc' ? 'xenipc' : 'baseline',
      cells: cell,
      label: `ping-pong ${cell.transport}${cell.spin === null ? '' : cell.spin ? ' spin' : ' event-only'}${cell.placement === 'free' ? '' : ` [${cell.placement}]`}`,
      measure: () => {
        const transport = cell.transport;
        // The floor pins its own two threads (one process), inside the memcpy worker.
        if (transport === 'bare-ring') return measureBareRingFloor(context, PING_PONG_SIZE, cell.cpus);
        if (cell.placement === 'free' || !('cpus' in support)) return measurePingPong(context, transport, PING_PONG_SIZE, cell.spin);
        return withPlacement(cell.placement, pairFor(context, transport).pids, support.cpus, () => measurePingPong(context, transport, PING_PONG_SIZE, cell.spin));
      },
    }),
  );
  for (let run = 0; run < options.runs; run++) {
    const parts: string[] = [];
    for (const step of rotate(steps, run)) {
      const result = await runStep(context, step);
      if (result !== undefined) parts.push(`${step.label.replace('ping-pong ', '')} p50 ${(result.p50Ns / 1000).toFixed(2)} us`);
    }
    progress(`ping-pong run ${run + 1}/${options.runs}: ${parts.join(', ')}`);
  }
  for (const cell of cells) {
    cell.medianP50Ns = median(cell.runs.map((r) => r.p50Ns));
    cell.medianP99Ns = median(cell.runs.map((r) => r.p99Ns));
  }
  return cells;
}

export async function runRpc(context: BenchContext): Promise<RpcCell[]> {
  const { options } = context;
  const variants = [
    { transport: 'rpc-xenipc' as const, spin: true },
    { transport: 'rpc-xenipc' as const, spin: false },
    { transport: 'rpc-unix-socket' as const, spin: null },
  ];
  const cells: RpcCell[] = variants.map(({ transport, spin }) => ({
    transport,
    spin,
    runs: [],
    medianP50Ns: Number.NaN,
    medianP99Ns: Number.NaN,
    medianCallsPerSec: Number.NaN,
    errors: [],
  }));
  const steps = cells.map(
    (cell): Step<RpcCell['runs'][number]> => ({
      family: cell.transport === 'rpc-xenipc' ? 'xenipc' : 'baseline',
      cells: cell,
      label: `${cell.transport}${cell.spin === null ? '' : cell.spin ? ' spin' : ' event-only'}`,
      measure: () => measureRpc(context, cell.transport, cell.spin),
    }),
  );
  for (let run = 0; run < options.runs; run++) {
    const parts: string[] = [];
    for (const step of rotate(steps, run)) {
      const result = await runStep(context, step);
      if (result !== undefined) parts.push(`${step.label} p50 ${(result.p50Ns / 1000).toFixed(2)} us, ${Math.round(result.pipelinedCallsPerSec)} calls/s`);
    }
    progress(`rpc run ${run + 1}/${options.runs}: ${parts.join(', ')}`);
  }
  for (const cell of cells) {
    cell.medianP50Ns = median(cell.runs.map((r) => r.p50Ns));
    cell.medianP99Ns = median(cell.runs.map((r) => r.p99Ns));
    cell.medianCallsPerSec = median(cell.runs.map((r) => r.pipelinedCallsPerSec));
  }
  return cells;
}

export async function runIdle(context: BenchContext): Promise<IdleCell[]> {
  const variants = [
    { label: 'xenipc (event-only)', transport: 'xenipc' as const, spin: false, family: 'xenipc' as const },
    { label: 'xenipc (spin option on)', transport: 'xenipc' as const, spin: true, family: 'xenipc' as const },
    { label: 'unix-socket', transport: 'unix-socket' as const, spin: null, family: 'baseline' as const },
  ];
  const cells: IdleCell[] = [];
  for (const variant of variants) {
    const holder = { runs: [] as IdleCell[], errors: [] as string[] };
    const result = await runStep(context, {
      family: variant.family,
      cells: holder,
      label: `idle ${variant.label}`,
      measure: () => measureIdle(context, variant.label, variant.transport, variant.spin),
    });
    const cell = result ?? { label: variant.label, seconds: 0, cpuPercentA: Number.NaN, cpuPercentB: Number.NaN, cpuPercentHost: Number.NaN, errors: [] };
    cell.errors = holder.errors;
    cells.push(cell);
    if (result !== undefined) {
      progress(`idle ${variant.label}: A ${result.cpuPercentA.toFixed(2)} %, B ${result.cpuPercentB.toFixed(2)} %, orchestrator ${result.cpuPercentHost.toFixed(2)} %`);
    }
  }
  return cells;
}
