/**
 * Ping-pong round trip: worker B sends a message, worker A echoes it, B times each round trip.
 * The bare ring floor does the same with two threads of the memcpy worker (bare-ring-floor.ts).
 */
import type { LatencyRun } from '../results-model.js';
import type { BareRingSpec } from '../transports/bare-ring-floor.js';
import { percentile } from '../stats.js';
import type { MessageTransport } from '../transports/transport-name.js';
import type { RoundTripSamples } from '../worker/endpoint.js';
import { closeConnection, openConnection, type BenchContext } from './bench-context.js';

export function latencyRun(samples: RoundTripSamples): LatencyRun {
  return { p50Ns: percentile(samples.rttNs, 50), p99Ns: percentile(samples.rttNs, 99), samples: samples.rttNs.length };
}

export async function measurePingPong(context: BenchContext, transport: MessageTransport, size: number, spin: boolean | null): Promise<LatencyRun> {
  const pair = await openConnection(context, transport, spin === null ? {} : { spin });
  try {
    await pair.call('a', 'serveEcho');
    const samples = await pair.call<RoundTripSamples>('b', 'pingPong', {
      size,
      iterations: context.options.pingPongIterations,
      warmup: context.options.pingPongWarmup,
    });
    return latencyRun(samples);
  } finally {
    await closeConnection(pair);
  }
}

/** `cpus`: [echo thread, timing thread] when pinned, null when unpinned. */
export async function measureBareRingFloor(context: BenchContext, size: number, cpus: [number, number] | null): Promise<LatencyRun> {
  const spec: BareRingSpec = { size, iterations: context.options.pingPongIterations, warmup: context.options.pingPongWarmup, cpus };
  return latencyRun(await context.pairs.memcpy.call<RoundTripSamples>('a', 'bareRing', spec));
}
