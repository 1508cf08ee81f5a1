/**
 * bridgeStreams settles once both sides are done, whichever order they finish in. The case that
 * once hung `xenipc proxy connect` (1 run in ~30 at load): the socket's client hangs up, the
 * socket finishes its write side first (which unpipes and pauses the channel), and only then does
 * the channel end its readable side, as VchanStream's _final does after closing the channel.
 */
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bridgeStreams } from '../src/streams/bridge-streams.js';

/** A channel-like stream: no half-close, so ending it ends its readable side too, later. */
function channelLike(finalDelayMs: number): Duplex {
  return new Duplex({
    allowHalfOpen: false,
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
    final(callback) {
      setTimeout(() => {
        this.push(null);
        callback();
      }, finalDelayMs);
    },
  });
}

/** A socket-like stream whose client sent `data` and hung up: it ends its write side at once. */
function socketThatHangsUp(data: string): Duplex {
  const socket = new Duplex({
    allowHalfOpen: false,
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  socket.push(data);
  socket.push(null);
  return socket;
}

function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not settled after ${ms} ms`)), ms))]);
}

describe('bridgeStreams', () => {
  it('settles when the socket finishes before the channel has ended its readable side', async () => {
    const channel = channelLike(50);
    const socket = socketThatHangsUp('bye');
    const received: Buffer[] = [];
    const write = channel._write.bind(channel);
    channel._write = (chunk: Buffer, encoding, callback) => {
      received.push(chunk);
      write(chunk, encoding, callback);
    };
    await settledWithin(bridgeStreams(channel, socket, new AbortController().signal), 5_000);
    expect(Buffer.concat(received).toString()).toBe('bye');
    expect(channel.destroyed && socket.destroyed).toBe(true);
  });

  it('settles when the channel ends first, whatever the socket still had to say', async () => {
    const channel = channelLike(0);
    const socket = new Duplex({ allowHalfOpen: false, read() {}, write: (_c, _e, callback) => callback() });
    const bridged = bridgeStreams(channel, socket, new AbortController().signal);
    channel.push('last words');
    channel.push(null);
    await settledWithin(bridged, 5_000);
    expect(channel.destroyed && socket.destroyed).toBe(true);
  });

  it('rejects with the abort reason and destroys both sides', async () => {
    const channel = channelLike(0);
    const socket = new Duplex({ allowHalfOpen: false, read() {}, write: (_c, _e, callback) => callback() });
    const controller = new AbortController();
    const bridged = bridgeStreams(channel, socket, controller.signal);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(bridged).rejects.toBe(reason);
    expect(channel.destroyed && socket.destroyed).toBe(true);
  });
});
