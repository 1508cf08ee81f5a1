/**
 * The client's one ordering rule for Linux's /dev/xen/xenbus (see the top of xs-client.ts): a
 * WATCH/UNWATCH is written only when no earlier request awaits its reply, and later requests wait
 * for its reply. The device here is a stand-in that answers like xenstored, one reply per turn of
 * the event loop, and records what the kernel would deadlock on: a (UN)WATCH written while a reply
 * is still due.
 */
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { XenStoreClient } from '../../src/xenstore/xs-client.js';
import { encodeXsMessage, nulTerminated, XsFrameDecoder, XsMessageType } from '../../src/xenstore/xs-wire.js';

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(XsMessageType).map(([n, v]) => [v, n]));

class StandInXenbus extends Duplex {
  readonly #decoder = new XsFrameDecoder();
  /** Requests written and not yet answered, in order. */
  readonly #due: Array<{ type: number; reqId: number }> = [];
  /** Every request as written: "WATCH", "READ", ... */
  readonly written: string[] = [];
  /** (UN)WATCH requests written while this many replies were still due (the kernel needs 0). */
  readonly dueAtWatch: number[] = [];

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    for (const m of this.#decoder.push(chunk)) {
      this.written.push(NAMES[m.type]!);
      if (m.type === XsMessageType.WATCH || m.type === XsMessageType.UNWATCH) this.dueAtWatch.push(this.#due.length);
      this.#due.push({ type: m.type, reqId: m.reqId });
      setImmediate(() => this.#answerOne());
    }
    callback();
  }

  #answerOne(): void {
    const next = this.#due.shift();
    if (next === undefined) return;
    const payload = next.type === XsMessageType.READ ? Buffer.from('value') : nulTerminated('OK');
    this.push(encodeXsMessage(next.type, next.reqId, 0, payload));
  }
}

async function burst(client: XenStoreClient): Promise<void> {
  await Promise.all([
    client.read('/a'),
    client.read('/b'),
    client.watch('/w', 't'),
    client.read('/c'),
    client.unwatch('/w', 't'),
    client.write('/d', 'x'),
    client.watch('/v', 't'),
  ]);
}

describe('XenStoreClient: WATCH/UNWATCH on the xenbus device', () => {
  it('writes a (UN)WATCH only when no reply is due, and keeps the order requests were made in', async () => {
    const device = new StandInXenbus();
    const client = new XenStoreClient(device, { description: 'stand-in xenbus', watchNeedsQuietConnection: true });
    await burst(client);
    expect(device.dueAtWatch).toEqual([0, 0, 0]);
    expect(device.written).toEqual(['READ', 'READ', 'WATCH', 'READ', 'UNWATCH', 'WRITE', 'WATCH']);
    client.close();
  });

  it('pipelines everything over a socket (the rule costs nothing there)', async () => {
    const device = new StandInXenbus();
    const client = new XenStoreClient(device, 'socket-like');
    await burst(client);
    // Without the rule a WATCH goes out behind unanswered requests: exactly what the stand-in detects.
    expect(Math.max(...device.dueAtWatch)).toBeGreaterThan(0);
    client.close();
  });

  it('rejects requests still waiting for their turn when the connection closes', async () => {
    const device = new StandInXenbus();
    const client = new XenStoreClient(device, { watchNeedsQuietConnection: true });
    const read = client.read('/a');
    const watch = client.watch('/w', 't');
    client.close();
    await expect(read).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(watch).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(device.written).toEqual(['READ']);
  });
});
