/** Ping-pong round trip: worker B sends a message, worker A echoes it, B times each round trip. */
import type { LatencyRun } from '../results-model.js';
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
