/**
 * Ping-pong over a MessageChannel (length-prefixed messages straight in the shared rings).
 * The server echoes every message; the client measures. Both are driven by the onMessage
 * callback -- no promise per message -- so what is measured is the channel, not the example.
 *
 * Every trySend() is followed by flush(): trySend() publishes at the end of the current task,
 * but the channel's receive loop may spin (busy-poll, --spin) before that task ends, and the
 * pong would wait out the spin.
 */
import type { VchanEndpoint } from '@xenipc/channel';
import { MessageChannel } from '@xenipc/channel';
import { LatencyRecorder } from './latency-recorder.js';
import { checkPong, makePing, stampPing } from './ping-payload.js';
import type { PingPongOptions } from './ping-pong-options.js';
import { ProgressReporter } from './progress-reporter.js';
import { phaseResult, type PhaseResult } from './run-report.js';

/** Echo until the client closes; resolves with how many messages were echoed. */
export async function serveChannelPhase(endpoint: VchanEndpoint): Promise<number> {
  let echoed = 0;
  let failure: Error | undefined;
  const channel: MessageChannel = new MessageChannel(endpoint, {
    onMessage: (message) => {
      echoed++;
      try {
        // In order: once one send waits for room, trySend refuses until it is through.
        if (channel.trySend(message)) channel.flush();
        else channel.send(message).catch((err: Error) => (failure ??= err));
      } catch (err) {
        failure ??= err as Error;
      }
    },
  });
  const reason = await channel.closed();
  if (reason !== 'peer-closed') throw failure ?? new Error(`channel phase: the channel ended with "${reason}" instead of the client closing it`);
  return echoed;
}

/** Send `total` pings keeping `window` in flight; `onPong(seq)` runs for each verified pong. */
function drive(
  channel: MessageChannel,
  ping: Uint8Array,
  total: number,
  window: number,
  onPong: (seq: number, now: number) => void,
  onSend: (seq: number, now: number) => void,
  size: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let received = 0;
    const fail = (err: unknown) => reject(err instanceof Error ? err : new Error(String(err)));
    const sendNext = () => {
      const seq = sent++;
      stampPing(ping, seq);
      onSend(seq, performance.now());
      // trySend copies into the ring; only when the ring is full does send() keep a reference,
      // so then the ping must not be stamped again until it went: send a copy.
      if (channel.trySend(ping)) channel.flush();
      else channel.send(ping.slice()).catch(fail);
    };
    channel.on('message', (pong: Uint8Array) => {
      try {
        checkPong(pong, size, received);
        onPong(received, performance.now());
        received++;
        if (received === total) return resolve();
        if (sent < total) sendNext();
      } catch (err) {
        fail(err);
      }
    });
    channel.once('close', (reason) => reject(new Error(`the channel ended ("${reason}") after ${received} of ${total} pongs`)));
    try {
      while (sent < total && sent - received < window) sendNext();
    } catch (err) {
      fail(err);
    }
  });
}

export async function runChannelPhase(endpoint: VchanEndpoint, options: PingPongOptions, progressOut: NodeJS.WritableStream): Promise<PhaseResult> {
  const channel = new MessageChannel(endpoint);
  try {
    const ping = makePing(options.size);
    const recorder = new LatencyRecorder();
    let sentAt = 0;
    // Warm-up: same path, not recorded.
    if (options.warmup > 0) await drive(channel, ping, options.warmup, 1, () => undefined, () => undefined, options.size);
    channel.removeAllListeners('message');
    channel.removeAllListeners('close');

    const progress = new ProgressReporter('channel ping-pong', options.count, progressOut);
    const started = performance.now();
    await drive(
      channel,
      ping,
      options.count,
      1,
      (seq, now) => {
        recorder.record(now - sentAt);
        progress.update(seq + 1);
      },
      (_seq, now) => (sentAt = now),
      options.size,
    );
    const pingPongSeconds = (performance.now() - started) / 1000;
    progress.finish(options.count);
    channel.removeAllListeners('message');
    channel.removeAllListeners('close');

    const pipelined = new ProgressReporter('channel pipelined', options.count, progressOut);
    const pipeStarted = performance.now();
    await drive(channel, ping, options.count, options.window, (seq) => pipelined.update(seq + 1), () => undefined, options.size);
    const pipeSeconds = (performance.now() - pipeStarted) / 1000;
    pipelined.finish(options.count);
    return phaseResult('channel', recorder.summary(), pingPongSeconds, options.count, options.size, pipeSeconds);
  } finally {
    channel.removeAllListeners();
    await channel.close();
  }
}
