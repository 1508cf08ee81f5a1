/**
 * Diagnostic: wall time per call of two RpcPeers in ONE process, over a transport that hands each
 * message straight to the other peer (one copy into a receive buffer, as a channel does): the
 * whole RPC hot path of both sides (encode, decode, pending calls, timers, promises) and nothing
 * of the channel or the other process. One call at a time (each awaited), then 256 in flight.
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-rpc-loop.ts [calls] [rounds] [timeoutMs]
 * timeoutMs is the caller's default per-call timeout (default 30000, as RpcPeer's; 0 = none,
 * as the benchmark's RPC cells use).
 */
import { RpcPeer, type RpcTransport, type RpcTransportSink } from '@xenipc/rpc';

class DirectTransport implements RpcTransport {
  readonly maxMessageBytes = 1 << 24;
  other!: DirectTransport;
  private sink!: RpcTransportSink;
  private readonly inbox = new Uint8Array(1 << 16);
  attach(sink: RpcTransportSink): void {
    this.sink = sink;
  }
  send(message: Uint8Array): boolean {
    const other = this.other;
    other.inbox.set(message);
    other.sink.message(other.inbox, 0, message.length, false);
    return true;
  }
  pause(): void {}
  resume(): void {}
  close(): void {}
}

const [calls = 200_000, rounds = 5, timeoutMs = 30_000] = process.argv.slice(2).map(Number);
const clientSide = new DirectTransport();
const serverSide = new DirectTransport();
clientSide.other = serverSide;
serverSide.other = clientSide;
const client = new RpcPeer(clientSide, { timeoutMs });
const server = new RpcPeer(serverSide);
server.register('add', (a: number, b: number) => a + b);

const WINDOW = 256;
const inFlight: Promise<unknown>[] = new Array(WINDOW);
for (let round = 0; round < rounds; round++) {
  let started = performance.now();
  for (let i = 0; i < calls; i++) await client.call('add', i, 1);
  const oneAtATime = ((performance.now() - started) * 1000) / calls;
  started = performance.now();
  for (let i = 0; i < calls; i += WINDOW) {
    for (let j = 0; j < WINDOW; j++) inFlight[j] = client.call('add', i + j, 1);
    await Promise.all(inFlight);
  }
  const windowed = ((performance.now() - started) * 1000) / calls;
  console.log(`timeoutMs ${timeoutMs}: one at a time ${oneAtATime.toFixed(3)} us/call, ${WINDOW} in flight ${windowed.toFixed(3)} us/call`);
}
client.close();
server.close();
