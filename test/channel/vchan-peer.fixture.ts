/**
 * One vchan end in its own OS process on the simulated host, driven by the test over IPC:
 * {id, cmd, ...} -> {id, ...result} or {id, error}. Commands:
 * - join                       become a domain; replies {domid}
 * - transfer {role, peer, port, readSize?, writeSize?, sendBytes, msgSize, recvBytes}
 *     open the channel (server listens / client connects), send `sendBytes` in messages of
 *     `msgSize` while receiving `recvBytes`; replies with sha256 of both directions
 * - flood {role, peer, port, msgSize}   send numbered messages until killed; posts
 *     {event: 'committed', seq} now and then (after the messages are published)
 * - sink {role, peer, port}     receive numbered messages, checking order and content; on the
 *     channel's end replies {reason, received, detectedAt, leftInRing}
 */
import { createHash } from 'node:crypto';
import type { XenBackend } from '@xenipc/core';
import { joinSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';

type Command = { id: number; cmd: string; [key: string]: unknown };
const dir = process.argv[2] ?? '';
let backend: XenBackend | undefined;

function open(args: Command): Promise<VchanEndpoint> {
  const b = backend as XenBackend;
  const port = args['port'] as string;
  const peer = args['peer'] as number;
  if (args['role'] === 'server') {
    return VchanServer.listen(b, { peer, port, readSize: args['readSize'] as number, writeSize: args['writeSize'] as number });
  }
  return VchanClient.connect(b, { peer, port, timeoutMs: 20_000 });
}

/** A fixed pseudo-random block; message k of a stream is a window into it. */
const BLOCK = new Uint8Array(4 << 20);
{
  let x = 0x9e3779b9;
  for (let i = 0; i < BLOCK.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    BLOCK[i] = x & 0xff;
  }
}

async function transfer(args: Command): Promise<Record<string, unknown>> {
  const ep = await open(args);
  const sendBytes = args['sendBytes'] as number;
  const recvBytes = args['recvBytes'] as number;
  const msgSize = args['msgSize'] as number;
  const recvHash = createHash('sha256');
  const sentHash = createHash('sha256');
  let received = 0;
  let messages = 0;
  let resolveReceived: () => void = () => undefined;
  const allReceived = new Promise<void>((resolve) => (resolveReceived = resolve));
  const mc = new MessageChannel(ep, {
    maxMessageSize: Math.max(msgSize, 8 << 20),
    onMessage: (m) => {
      recvHash.update(m);
      received += m.length;
      messages++;
      if (received >= recvBytes) resolveReceived();
    },
  });
  if (recvBytes === 0) resolveReceived();
  const t0 = performance.now();
  let sent = 0;
  let offset = 0;
  while (sent < sendBytes) {
    const n = Math.min(msgSize, sendBytes - sent);
    if (offset + n > BLOCK.length) offset = 0;
    const m = BLOCK.subarray(offset, offset + n);
    offset += 4099;
    if (!mc.trySend(m)) await mc.send(m);
    sentHash.update(m);
    sent += n;
  }
  mc.flush();
  await allReceived;
  const ms = performance.now() - t0;
  const result = {
    sentHash: sentHash.digest('hex'),
    recvHash: recvHash.digest('hex'),
    sent,
    received,
    messages,
    readRingSize: ep.readRingSize,
    writeRingSize: ep.writeRingSize,
    ms,
  };
  await mc.close();
  return result;
}

async function flood(args: Command): Promise<Record<string, unknown>> {
  const ep = await open(args);
  const msgSize = Math.max(8, args['msgSize'] as number);
  const mc = new MessageChannel(ep, { onMessage: () => undefined });
  const msg = new Uint8Array(msgSize);
  const view = new DataView(msg.buffer);
  process.send?.({ event: 'started' });
  let seq = 0;
  for (;;) {
    // Numbered message: seq in the first 4 bytes, the rest a function of seq.
    view.setUint32(0, seq, true);
    msg.fill(seq & 0xff, 4);
    if (!mc.trySend(msg)) {
      await mc.send(msg);
    }
    seq++;
    if ((seq & 0x3fff) === 0) {
      mc.flush(); // published: from here on these messages are committed
      process.send?.({ event: 'committed', seq });
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

async function sink(args: Command): Promise<Record<string, unknown>> {
  const ep = await open(args);
  let expected = 0;
  let corrupt = 0;
  const mc = new MessageChannel(ep, {
    onMessage: (m) => {
      const seq = new DataView(m.buffer, m.byteOffset, m.byteLength).getUint32(0, true);
      if (seq !== expected || m.length < 8 || m[m.length - 1] !== (seq & 0xff)) corrupt++;
      expected = seq + 1;
    },
  });
  process.send?.({ event: 'started' });
  let detectedAt = 0n;
  let leftInRing = -1;
  ep.once('close', () => {
    detectedAt = process.hrtime.bigint();
  });
  const reason = await new Promise((resolve) => mc.once('close', resolve));
  leftInRing = ep.dataReady;
  return { reason, received: expected, corrupt, detectedAt: detectedAt.toString(), leftInRing };
}

process.on('message', (msg: Command) => {
  void (async () => {
    try {
      let result: Record<string, unknown>;
      switch (msg.cmd) {
        case 'join':
          backend = await joinSimulatedHost({ dir, autoStart: false });
          result = { domid: backend.domid };
          break;
        case 'transfer':
          result = await transfer(msg);
          break;
        case 'flood':
          result = await flood(msg);
          break;
        case 'sink':
          result = await sink(msg);
          break;
        case 'close':
          await backend?.close();
          process.send?.({ id: msg.id }, () => process.exit(0));
          return;
        default:
          throw new Error(`unknown command ${msg.cmd}`);
      }
      process.send?.({ id: msg.id, ...result });
    } catch (err) {
      const e = err as { code?: string; message?: string; stack?: string };
      process.send?.({ id: msg.id, error: e.code ?? 'ERROR', message: e.message, stack: e.stack });
    }
  })();
});
