/**
 * Diagnostic: when an onFrame receiver publishes its consumer index, A/B-tested inside ONE pair of
 * processes on the simulated host, so that both variants see the same CPU placement and memory
 * (between two invocations this machine's round trip moves by more than the effect).
 *   committed   what MessageChannel does: a lone frame under 1 KiB is published after its
 *               delivery, behind the reply's producer index; anything else before delivery
 *   early       every batch published before delivery (the order before 2c47948)
 *   batch       every batch under 1 KiB published after delivery (2c47948)
 * Both processes patch MessageChannel's private drainFrames() with a switch between the variants.
 *
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-publish-order.ts pingpong [roundTrips] [phase]
 *     64 B spinning ping-pong; committed and early alternate every `phase` round trips (both
 *     sides count, so they switch together); prints the medians of the phases' p50s and how many
 *     adjacent phase pairs the committed order won. PROBE_PIN=1 pins the two processes apart.
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-publish-order.ts rpc [rounds]
 *     RpcPeer over ChannelTransport; per round and variant (set on both sides by a call):
 *     pipelined calls/s (window 256) and the sequential round trip p50.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { joinSimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { MessageChannel, VchanClient, VchanServer } from '@xenipc/channel';
import { ChannelTransport, RpcPeer } from '@xenipc/rpc';
import { median } from '../stats.js';
import { pinProbeProcessesIfAsked } from '../control/cpu-placement.js';

type Variant = 'committed' | 'early' | 'batch';
const VARIANTS: Variant[] = ['committed', 'early', 'batch'];
/** The batch size under which the 'batch' variant publishes late (as 2c47948 did). */
const SMALL_BATCH = 1024;

/** The private members of MessageChannel and FrameBuffer the variants use. */
interface FrameBufferInternals {
  fill(consumer: ConsumerInternals, available: number): number;
  wanted(available: number): number;
}
interface ConsumerInternals {
  available(): number;
  publish(): void;
}
interface ChannelInternals {
  isFinished(): boolean;
  pausedByUser: boolean;
  handle: { released: boolean };
  consumer: ConsumerInternals;
  leftInRing: number;
  deliverFrames(frames: FrameBufferInternals): boolean;
  drainFrames(frames: FrameBufferInternals): boolean;
}

let variant: Variant = 'committed';

function copyIn(channel: ChannelInternals, frames: FrameBufferInternals): number {
  if (channel.pausedByUser || channel.handle.released) return 0;
  const avail = channel.consumer.available();
  const copied = avail > 0 ? frames.fill(channel.consumer, frames.wanted(avail)) : 0;
  channel.leftInRing = avail - copied;
  return copied;
}

/** The old orders: a batch of `lateBelow` bytes or more is published before its delivery, a
 * smaller one after (early: 0, every batch before; batch: SMALL_BATCH). */
function drainPublishingLateBelow(channel: ChannelInternals, frames: FrameBufferInternals, lateBelow: number): boolean {
  if (channel.isFinished()) return false;
  const copied = copyIn(channel, frames);
  if (copied === 0) return channel.deliverFrames(frames);
  if (copied >= lateBelow) channel.consumer.publish();
  try {
    channel.deliverFrames(frames);
    return true;
  } finally {
    if (copied < lateBelow && !channel.handle.released) channel.consumer.publish();
  }
}

const proto = MessageChannel.prototype as unknown as ChannelInternals;
const committedDrain = proto.drainFrames;
proto.drainFrames = function (this: ChannelInternals, frames: FrameBufferInternals): boolean {
  if (variant === 'committed') return committedDrain.call(this, frames);
  return drainPublishingLateBelow(this, frames, variant === 'early' ? 0 : SMALL_BATCH);
};

const self = fileURLToPath(import.meta.url);
const execArgv = ['--conditions=xenipc-source', '--import', 'tsx'];
// main: [workload, ...numbers]; children: [workload, 'server' | 'client', host dir, peer domid, ...numbers]
const args = process.argv.slice(2);
const workload = args[0] === 'rpc' ? 'rpc' : 'pingpong';
const role = args[1] === 'server' || args[1] === 'client' ? args[1] : 'main';
const dir = role === 'main' ? '' : (args[2] as string);
const peerDomid = role === 'main' ? 0 : Number(args[3]);
const numbers = (role === 'main' ? args.slice(1) : args.slice(4)).map(Number);

/** The simulated host lives in this process; the two ends are children, so neither blocks the host's event relay while it spins. */
async function runPair(): Promise<void> {
  const hostDir = mkdtempSync(join(tmpdir(), 'xenipc-publish-order-'));
  const host = await startSimulatedHost({ dir: hostDir });
  const child = (childRole: string, peer: number): ReturnType<typeof fork> =>
    fork(self, [workload, childRole, hostDir, String(peer), ...numbers.map(String)], { execArgv });
  const domidOf = (c: ReturnType<typeof fork>): Promise<number> => new Promise((resolve) => c.once('message', (m) => resolve(m as number)));
  const server = child('server', 0);
  const serverDomid = await domidOf(server);
  const client = child('client', serverDomid);
  server.send(await domidOf(client));
  pinProbeProcessesIfAsked(server, client);
  await new Promise((resolve) => client.once('exit', resolve));
  server.kill();
  await host.close();
  rmSync(hostDir, { recursive: true, force: true });
}

async function serve(): Promise<void> {
  const backend = await joinSimulatedHost({ dir, autoStart: false });
  process.send?.(backend.domid);
  process.on('disconnect', () => process.exit(0));
  const clientDomid = await new Promise<number>((resolve) => process.once('message', (m) => resolve(m as number)));
  const endpoint = await VchanServer.listen(backend, { peer: clientDomid, port: 'publish-order' });
  if (workload === 'rpc') {
    const peer = new RpcPeer(new ChannelTransport(endpoint));
    peer.register('add', (a: number, b: number) => a + b);
    peer.register('variant', (v: Variant) => (variant = v));
    return;
  }
  const phase = numbers[1] ?? 10_000;
  let echoed = 0;
  const channel: MessageChannel = new MessageChannel(endpoint, {
    onFrame: (bytes, start, end) => {
      variant = Math.floor(++echoed / phase) % 2 === 0 ? 'committed' : 'early';
      channel.trySend(bytes.subarray(start, end));
    },
  });
}

async function pingPong(): Promise<void> {
  const roundTrips = numbers[0] ?? 2_000_000;
  const phase = numbers[1] ?? 10_000;
  const variantAt = (n: number): Variant => (Math.floor(n / phase) % 2 === 0 ? 'committed' : 'early');
  const endpoint = await connectClient();
  const payload = new Uint8Array(64);
  const rtt = new Float64Array(roundTrips);
  let done = 0;
  let sentAt = 0;
  await new Promise<void>((resolve) => {
    const channel: MessageChannel = new MessageChannel(endpoint, {
      onFrame: () => {
        rtt[done] = (performance.now() - sentAt) * 1000;
        if (++done === roundTrips) return void channel.close().then(resolve);
        variant = variantAt(done + 1);
        sentAt = performance.now();
        channel.trySend(payload);
      },
    });
    variant = variantAt(1);
    sentAt = performance.now();
    channel.trySend(payload);
  });
  const p50s: Record<'committed' | 'early', number[]> = { committed: [], early: [] };
  // Phase 0 is the warm-up; the first 500 round trips of each phase let both sides switch.
  for (let start = phase; start < roundTrips; start += phase) {
    p50s[variantAt(start + 1) as 'committed' | 'early'].push(median(Array.from(rtt.subarray(start + 500, Math.min(start + phase, roundTrips)))));
  }
  const pairs = Math.min(p50s.committed.length, p50s.early.length);
  const diffs = Array.from({ length: pairs }, (_, i) => (p50s.committed[i] as number) - (p50s.early[i] as number));
  console.log(
    `ping-pong p50: committed ${median(p50s.committed).toFixed(3)} us, early ${median(p50s.early).toFixed(3)} us ` +
      `(medians of ${p50s.committed.length}/${p50s.early.length} phases of ${phase}); ` +
      `paired difference ${median(diffs).toFixed(3)} us, committed faster in ${diffs.filter((d) => d < 0).length} of ${pairs}`,
  );
}

async function rpc(): Promise<void> {
  const rounds = numbers[0] ?? 10;
  const endpoint = await connectClient();
  const peer = new RpcPeer(new ChannelTransport(endpoint), { timeoutMs: 0 });
  const pipelined = (calls: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      let issued = 0;
      let completed = 0;
      const onResult = (): void => {
        if (++completed === calls) resolve(calls / ((performance.now() - started) / 1000));
        else if (issued < calls) issue();
      };
      const issue = (): void => {
        issued++;
        peer.call('add', issued, 1).then(onResult, reject);
      };
      for (let i = 0; i < 256; i++) issue();
    });
  const results = Object.fromEntries(VARIANTS.map((v) => [v, { rate: [] as number[], rtt: [] as number[] }])) as Record<Variant, { rate: number[]; rtt: number[] }>;
  for (let round = 0; round < rounds; round++) {
    for (const v of round % 2 === 1 ? [...VARIANTS].reverse() : VARIANTS) {
      await peer.call('variant', v);
      variant = v;
      await pipelined(20_000);
      results[v].rate.push(await pipelined(100_000));
      const samples: number[] = [];
      for (let i = 0; i < 5_000; i++) {
        const sent = performance.now();
        await peer.call('add', i, 1);
        if (i >= 500) samples.push((performance.now() - sent) * 1000);
      }
      results[v].rtt.push(median(samples));
    }
  }
  for (const v of VARIANTS) {
    const { rate, rtt } = results[v];
    console.log(
      `${v.padEnd(9)} pipelined ${(median(rate) / 1e6).toFixed(2)} M calls/s [${rate.map((r) => (r / 1e6).toFixed(2)).join(' ')}], ` +
        `round trip p50 ${median(rtt).toFixed(2)} us [${rtt.map((r) => r.toFixed(2)).join(' ')}]`,
    );
  }
  peer.close();
}

async function connectClient(): Promise<VchanClient> {
  const backend = await joinSimulatedHost({ dir, autoStart: false });
  process.send?.(backend.domid);
  return VchanClient.connect(backend, { peer: peerDomid, port: 'publish-order' });
}

if (role === 'server') await serve();
else if (role === 'client') {
  await (workload === 'rpc' ? rpc() : pingPong());
  process.exit(0);
} else await runPair();
