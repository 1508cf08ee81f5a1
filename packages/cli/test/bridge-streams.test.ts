/**
 * bridgeStreams settles once both sides are done, whichever order they finish in. The case that
 * once hung `xenipc proxy connect` (1 run in ~30 at load): the socket's client hangs up, the
 * socket finishes its write side first (which unpipes and pauses the channel), and only then does
 * the channel end its readable side, as VchanStream's _final does after closing the channel.
 */
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bridgeStreams } from '../src/streams/bridge-streams.js';

/**
 * A duplex with no half-close that keeps what is written to it in `written`. `onFinal` (when
 * given) runs when its write side ends: a channel-like stream ends its readable side there.
 */
function plainDuplex(written: Buffer[] = [], onFinal?: (stream: Duplex, callback: () => void) => void): Duplex {
  return new Duplex({
    allowHalfOpen: false,
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
    final(callback) {
      if (onFinal === undefined) callback();
      else onFinal(this, callback);
    },
  });
}

/** A channel-like stream: no half-close, so ending it ends its readable side too, later. */
function channelLike(finalDelayMs: number, written: Buffer[] = []): Duplex {
  return plainDuplex(written, (stream, callback) =>
    setTimeout(() => {
      stream.push(null);
      callback();
    }, finalDelayMs),
  );
}

/** A socket-like stream whose client sent `data` and hung up: it ends its write side at once. */
function socketThatHangsUp(data: string): Duplex {
  const socket = plainDuplex();
  socket.push(data);
  socket.push(null);
  return socket;
}

async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('bridgeStreams', () => {
  it('settles when the socket finishes before the channel has ended its readable side', async () => {
    const received: Buffer[] = [];
    const channel = channelLike(50, received);
    const socket = socketThatHangsUp('bye');
    await settledWithin(bridgeStreams(channel, socket, new AbortController().signal), 5_000);
    expect(Buffer.concat(received).toString()).toBe('bye');
    expect(channel.destroyed && socket.destroyed).toBe(true);
  });

  it('settles when the channel ends first, whatever the socket still had to say', async () => {
    const channel = channelLike(0);
    const socket = plainDuplex();
    const bridged = bridgeStreams(channel, socket, new AbortController().signal);
    channel.push('last words');
    channel.push(null);
    await settledWithin(bridged, 5_000);
    expect(channel.destroyed && socket.destroyed).toBe(true);
  });

  it('rejects with the abort reason and destroys both sides', async () => {
    const channel = channelLike(0);
    const socket = plainDuplex();
    const controller = new AbortController();
    const bridged = bridgeStreams(channel, socket, controller.signal);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(bridged).rejects.toBe(reason);
    expect(channel.destroyed && socket.destroyed).toBe(true);
  });
});
