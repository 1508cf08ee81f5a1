/**
 * Ping-pong as msgpack-rpc calls: the server exposes `ping(payload) -> payload`, the client
 * calls it, one at a time for latency and `window` at a time for throughput. Each RPC message
 * is one MessageChannel message (no stream framing to rediscover).
 */
import type { VchanEndpoint } from '@xenipc/channel';
import { createChannelPeer, type RpcPeer } from '@xenipc/rpc';
import { LatencyRecorder } from './latency-recorder.js';
import { checkPong, makePing, stampPing } from './ping-payload.js';
import type { PingPongOptions } from './ping-pong-options.js';
import { ProgressReporter } from './progress-reporter.js';
import { phaseResult, type PhaseResult } from './run-report.js';

/** Answer ping calls until the client closes; resolves with how many were answered. */
export async function serveRpcPhase(endpoint: VchanEndpoint): Promise<number> {
  const peer = createChannelPeer(endpoint);
  let answered = 0;
  peer.register('ping', (payload: Uint8Array) => {
    answered++;
    return payload;
  });
  const error = await new Promise<{ reason: string }>((resolve) => peer.once('close', resolve));
  if (error.reason !== 'peer-closed') throw new Error(`rpc phase: the connection ended with "${error.reason}" instead of the client closing it`);
  return answered;
}

async function callPing(peer: RpcPeer, ping: Uint8Array, seq: number, size: number): Promise<void> {
  stampPing(ping, seq);
  // pack() copies the ping into the request synchronously, so the caller may restamp it at once.
  const pong = await peer.call<Uint8Array>('ping', ping);
  checkPong(pong, size, seq);
}

/** `total` calls with at most `window` outstanding, answered in any order but each verified. */
async function pipelined(peer: RpcPeer, ping: Uint8Array, total: number, window: number, size: number, progress: ProgressReporter): Promise<void> {
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < total) {
      await callPing(peer, ping, next++, size);
      progress.update(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, total) }, lane));
}

export async function runRpcPhase(endpoint: VchanEndpoint, options: PingPongOptions, progressOut: NodeJS.WritableStream): Promise<PhaseResult> {
  const peer = createChannelPeer(endpoint);
  try {
    const ping = makePing(options.size);
    for (let seq = 0; seq < options.warmup; seq++) await callPing(peer, ping, seq, options.size);

    const recorder = new LatencyRecorder();
    const progress = new ProgressReporter('rpc ping-pong', options.count, progressOut);
    const started = performance.now();
    for (let seq = 0; seq < options.count; seq++) {
      const sentAt = performance.now();
      await callPing(peer, ping, seq, options.size);
      recorder.record(performance.now() - sentAt);
      progress.update(seq + 1);
    }
    const pingPongSeconds = (performance.now() - started) / 1000;
    progress.finish(options.count);

    const pipeProgress = new ProgressReporter('rpc pipelined', options.count, progressOut);
    const pipeStarted = performance.now();
    await pipelined(peer, ping, options.count, options.window, options.size, pipeProgress);
    const pipeSeconds = (performance.now() - pipeStarted) / 1000;
    pipeProgress.finish(options.count);
    return phaseResult('rpc', recorder.summary(), pingPongSeconds, options.count, options.size, pipeSeconds);
  } finally {
    peer.close();
  }
}
