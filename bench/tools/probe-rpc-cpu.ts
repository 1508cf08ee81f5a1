/**
 * Diagnostic: CPU time per call of each half of the RpcPeer hot path, with no transport cost (a
 * transport that only records frames, delivering them straight to the peer's sink):
 *   send            call(): encode the request, msgid and pending-call bookkeeping
 *   receive         a response delivered to the caller: decode, settle the call
 *   serve           a request delivered to the server: decode, run the handler, encode the response
 * for each decode path of @xenipc/rpc's per-peer codec (packages/rpc/src/wire/msgpack-codec.ts):
 *   fast            msgpackr, for messages without extension values (what transports say they hold)
 *   own reader      the package's own reader (messages with ext values, peers with rawStrings)
 *   ext param       every call carries an RpcExtension: the own writer encodes, the own reader decodes
 * CPU time (process.cpuUsage), not wall time, so other load on the machine matters less.
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-rpc-cpu.ts [calls] [rounds]
 */
import { RpcExtension, RpcPeer, type RpcTransport, type RpcTransportSink } from '@xenipc/rpc';

class RecordingTransport implements RpcTransport {
  readonly maxMessageBytes = 1 << 24;
  sink!: RpcTransportSink;
  frames: Uint8Array[] = [];
  attach(sink: RpcTransportSink): void { this.sink = sink; }
  send(message: Uint8Array): boolean { this.frames.push(message); return true; }
  pause(): void {}
  resume(): void {}
  close(): void {}
}

type Mode = 'fast' | 'own reader' | 'ext param';
const [calls = 100_000, rounds = 3] = process.argv.slice(2).map(Number);
const cpuMicros = (work: () => void): number => {
  const started = process.cpuUsage();
  work();
  const used = process.cpuUsage(started);
  return used.user + used.system;
};

async function measure(mode: Mode): Promise<string> {
  const clientSide = new RecordingTransport();
  const serverSide = new RecordingTransport();
  const client = new RpcPeer(clientSide, { timeoutMs: 0 });
  const server = new RpcPeer(serverSide, { timeoutMs: 0 });
  server.register('add', (a: number, b: unknown) => (typeof b === 'number' ? a + b : a));
  // the transports' scan result; 'own reader' forces the own reader as a message with ext values would
  const hasExtension = mode !== 'fast';
  const handle = new RpcExtension(0, Uint8Array.of(1));
  const pending: Promise<unknown>[] = new Array(calls);
  const send = cpuMicros(() => {
    for (let i = 0; i < calls; i++) pending[i] = client.call('add', i, mode === 'ext param' ? handle : 1);
  });
  const requests = clientSide.frames.splice(0);
  const serve = cpuMicros(() => {
    for (const frame of requests) serverSide.sink.message(frame, 0, frame.length, hasExtension);
  });
  const responses = serverSide.frames.splice(0);
  const receive = cpuMicros(() => {
    for (const frame of responses) clientSide.sink.message(frame, 0, frame.length, hasExtension);
  });
  await Promise.all(pending);
  const perCall = (micros: number): string => (micros / calls).toFixed(2).padStart(6);
  return `${mode.padEnd(11)} send ${perCall(send)} us  serve ${perCall(serve)} us  receive ${perCall(receive)} us  (${client.stats.callsSucceeded} calls)`;
}

for (let round = 0; round < rounds; round++) {
  for (const mode of ['fast', 'own reader', 'ext param'] as const) console.log(await measure(mode));
}
