/**
 * One-way stream throughput: worker B streams `size`-byte messages to worker A for a fixed window
 * after an untimed warm-up on the same connection. Time runs from B's first send to A's receipt
 * of the end marker (both read CLOCK_MONOTONIC, which all processes share).
 */
import type { StreamRun } from '../results-model.js';
import type { MessageTransport } from '../transports/transport-name.js';
import type { StreamReceiveResult, StreamSendResult, StreamSpec } from '../worker/endpoint.js';
import type { MemcpyResult } from '../transports/memcpy-ceiling.js';
import type { TwoCopyResult, TwoCopySpec } from '../transports/two-copy-ceiling.js';
import { measureCRing, xenipcPublishBytes } from '../transports/c-ring.js';
import { closeConnection, openConnection, type BenchContext } from './bench-context.js';
import type { WorkerPair } from '../control/worker-pair.js';

async function timedStream(pair: WorkerPair, spec: StreamSpec): Promise<StreamRun> {
  await pair.call('a', 'receiveStream', spec);
  const sent = await pair.call<StreamSendResult>('b', 'sendStream', spec);
  const received = await pair.call<StreamReceiveResult>('a', 'collectStream');
  if (received.received !== sent.sent) throw new Error(`sent ${sent.sent} messages, received ${received.received}`);
  const seconds = (received.endNs - sent.startNs) / 1e9;
  return toRun(received.received, spec.size, seconds);
}

function toRun(messages: number, size: number, seconds: number): StreamRun {
  return { messages, seconds, mbPerSec: (messages * size) / seconds / 1e6, msgPerSec: messages / seconds };
}

export async function measureStream(
  context: BenchContext,
  transport: MessageTransport,
  size: number,
  params: { ringBytes?: number; oneWritePerMessage?: boolean; claim?: boolean },
): Promise<StreamRun> {
  const { claim, ...connection } = params;
  const pair = await openConnection(context, transport, connection);
  try {
    await timedStream(pair, { size, durationMs: context.options.streamWarmupMs, claim });
    return await timedStream(pair, { size, durationMs: context.options.streamMs, claim });
  } finally {
    await closeConnection(pair);
  }
}

export async function measureMemcpyCeiling(context: BenchContext, size: number, ringBytes: number): Promise<StreamRun> {
  const pair = context.pairs.memcpy;
  await pair.call('a', 'memcpy', { size, ringBytes, durationMs: context.options.streamWarmupMs });
  const result = await pair.call<MemcpyResult>('a', 'memcpy', { size, ringBytes, durationMs: context.options.streamMs });
  return toRun(result.messages, size, result.seconds);
}

/** Two threads of the memcpy worker, copy-in / copy-out through a shared ring (two-copy-ceiling.ts). */
export async function measureTwoCopyCeiling(context: BenchContext, size: number, ringBytes: number): Promise<StreamRun> {
  const spec: TwoCopySpec = { size, ringBytes, warmupMs: context.options.streamWarmupMs, durationMs: context.options.streamMs };
  const result = await context.pairs.memcpy.call<TwoCopyResult>('a', 'twoCopy', spec);
  return toRun(result.messages, size, result.seconds);
}

/** The C ring (transports/c-ring.ts): batched like xenipc, or every frame published. */
export async function measureCRingBaseline(context: BenchContext, size: number, ringBytes: number, perMessage: boolean): Promise<StreamRun> {
  if ('unavailable' in context.cRing) throw new Error(context.cRing.unavailable);
  const publishBytes = perMessage ? 0 : xenipcPublishBytes(ringBytes);
  const result = await measureCRing(context.cRing.path, { size, ringBytes, warmupMs: context.options.streamWarmupMs, durationMs: context.options.streamMs, publishBytes });
  return toRun(result.messages, size, result.seconds);
}
