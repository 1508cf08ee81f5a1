/**
 * RPC: worker A serves, worker B calls. Round trip = one small call awaited before the next;
 * pipelined = calls per second with `rpcPipelineWindow` calls outstanding at all times.
 */
import type { RpcRun } from '../results-model.js';
import type { RpcTransport } from '../transports/transport-name.js';
import type { RoundTripSamples, RpcPipelineResult } from '../worker/endpoint.js';
import { closeConnection, openConnection, type BenchContext } from './bench-context.js';
import { latencyRun } from './ping-pong.js';

export async function measureRpc(context: BenchContext, transport: RpcTransport, spin: boolean | null): Promise<RpcRun> {
  const { options } = context;
  const pair = await openConnection(context, transport, spin === null ? {} : { spin });
  try {
    await pair.call('a', 'rpcServe');
    const samples = await pair.call<RoundTripSamples>('b', 'rpcRoundTrip', { iterations: options.rpcIterations, warmup: options.rpcWarmup });
    await pair.call('b', 'rpcPipelined', { durationMs: options.rpcPipelineMs / 4, window: options.rpcPipelineWindow });
    const pipelined = await pair.call<RpcPipelineResult>('b', 'rpcPipelined', { durationMs: options.rpcPipelineMs, window: options.rpcPipelineWindow });
    return { ...latencyRun(samples), pipelinedCallsPerSec: pipelined.calls / pipelined.seconds };
  } finally {
    await closeConnection(pair);
  }
}
