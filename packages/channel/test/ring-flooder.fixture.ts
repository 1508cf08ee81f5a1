/**
 * A hostile vchan client in its own OS process on the simulated host: it connects like any
 * client, then keeps the server's read ring (LEFT) full of empty frames by moving only its
 * producer index -- the ring's bytes stay zero, and a zero u32 is an empty frame -- and wakes the
 * server whenever it asked. Driven over IPC ({id, cmd, ...} -> {id, ...} or {id, error}):
 * - join                      become a domain; replies {domid}
 * - flood {peer, port}        connect and start flooding; replies {ringSize} once flooding
 * - stop                      stop, close the channel; replies {refills}
 * - close                     leave the host and exit
 * It floods in slices of FLOOD_SLICE_MS, with a turn of its own event loop in between (to hear
 * `stop`); inside a slice it refills as soon as the server consumed anything.
 */
import type { XenBackend } from '@xenipc/core';
import { joinSimulatedHost } from '@xenipc/sim';
import { VchanClient } from '@xenipc/channel';
import { CLI_NOTIFY, LEFT_CONS, LEFT_PROD, NOTIFY_WRITE } from '../src/control-page.js';
import { endpointHandle } from '../src/endpoint-handle.js';

type Command = { id: number; cmd: string; [key: string]: unknown };
const FLOOD_SLICE_MS = 20;
const dir = process.argv[2] ?? '';
let backend: XenBackend | undefined;
let client: VchanClient | undefined;
let flooding = false;
let refills = 0;
/** For Atomics.wait: a short pause between checks, so the flooder does not burn a whole core. */
const nap = new Int32Array(new SharedArrayBuffer(4));

interface RingInternals {
  words: Int32Array;
  data: Uint8Array;
}

async function flood(args: Command): Promise<{ ringSize: number }> {
  const c = await VchanClient.connect(backend as XenBackend, { peer: args['peer'] as number, port: args['port'] as string, timeoutMs: 20_000 });
  client = c;
  const ring = endpointHandle(c).producer as unknown as RingInternals;
  const words = ring.words;
  const bytes = new Uint8Array(words.buffer, words.byteOffset, 4096);
  const size = ring.data.length;
  const evtchn = (c as unknown as { evtchn: { notify(): void } }).evtchn;
  ring.data.fill(0);
  flooding = true;
  const slice = (): void => {
    if (!flooding) return;
    const until = performance.now() + FLOOD_SLICE_MS;
    while (performance.now() < until) {
      const target = (Atomics.load(words, LEFT_CONS / 4) + size) | 0;
      if (Atomics.load(words, LEFT_PROD / 4) !== target) {
        Atomics.store(words, LEFT_PROD / 4, target);
        refills++;
        if ((Atomics.and(bytes, CLI_NOTIFY, ~NOTIFY_WRITE & 0xff) & NOTIFY_WRITE) !== 0) evtchn.notify();
      } else {
        Atomics.wait(nap, 0, 0, 0.05);
      }
    }
    setImmediate(slice);
  };
  setImmediate(slice);
  return { ringSize: size };
}

process.on('message', (message: Command) => {
  const reply = (body: Record<string, unknown>): void => void process.send?.({ id: message.id, ...body });
  const run = async (): Promise<Record<string, unknown>> => {
    switch (message.cmd) {
      case 'join':
        backend = await joinSimulatedHost({ dir, autoStart: false });
        return { domid: backend.domid };
      case 'flood':
        return flood(message);
      case 'stop': {
        flooding = false;
        await client?.close();
        client = undefined;
        const done = refills;
        refills = 0;
        return { refills: done };
      }
      case 'close':
        await backend?.close();
        setImmediate(() => process.exit(0));
        return {};
      default:
        throw new Error(`unknown command ${message.cmd}`);
    }
  };
  run().then(reply, (err: Error) => reply({ error: err.name, message: err.message, stack: err.stack }));
});
