/**
 * xenipc: @xenipc/channel's MessageChannel over a vchan on the simulated Xen host (one domain
 * per worker process). Used as documented: trySend() in a loop with send() when the ring is
 * full; an onFrame callback to receive (the cheapest way: no allocation, the bytes are valid
 * during the call -- the counterpart of the socket baseline's in-place frame parsing); flush()
 * after a reply where a round trip waits on it.
 */
import type { XenBackend } from '@xenipc/core';
import { MessageChannel, VchanClient, VchanServer, type SendClaim, type VchanEndpoint } from '@xenipc/channel';
import { END_OF_STREAM, makePayload, SEQUENCE_BYTES, StreamChecker, writeSequence } from '../message-pattern.js';
import {
  hrtimeNs,
  type MessageEndpoint,
  type PingPongSpec,
  type RoundTripSamples,
  type StreamReceiveResult,
  type StreamSendResult,
  type StreamSpec,
} from '../worker/endpoint.js';
import type { Connection, ListenResult } from '../worker/open-connection.js';
import type { WorkerState } from '../worker/worker-state.js';
import type { ConnectionParams } from './transport-name.js';

const CLOCK_EVERY = 64;
/** What claim/commit messages hold after their sequence number. */
const FILL_BYTE = 0x5a;

function backendOf(state: WorkerState): XenBackend {
  if (state.backend === undefined) throw new Error('this worker has not joined the simulated host');
  return state.backend as XenBackend;
}

/** "Spinning" is the channel's default (DEFAULT_SPIN_MICROS, adaptive); "event-only" is 0. */
function spinMicros(params: ConnectionParams): number | undefined {
  return params.spin === false ? 0 : undefined;
}

function peerOf(params: ConnectionParams): number {
  if (params.peerDomid === undefined) throw new Error('xenipc needs the peer domid');
  return params.peerDomid;
}

export async function joinSimulatedHostForBench(state: WorkerState, args: { dir: string }): Promise<number> {
  const { joinSimulatedHost } = await import('@xenipc/sim');
  const backend = await joinSimulatedHost({ dir: args.dir, autoStart: false });
  state.backend = backend;
  return backend.domid;
}

/** Listens for the other worker; resolves to the connected vchan end. */
export async function listenVchan(state: WorkerState, params: ConnectionParams): Promise<{ address: unknown; connected: Promise<VchanEndpoint> }> {
  const server = await VchanServer.listen(backendOf(state), {
    peer: peerOf(params),
    port: params.name,
    readSize: params.ringBytes,
    writeSize: params.ringBytes,
    spinMicros: spinMicros(params),
    waitForClient: false,
  });
  return { address: params.name, connected: server.whenConnected().then(() => server) };
}

export function connectVchan(state: WorkerState, params: ConnectionParams, address: unknown): Promise<VchanEndpoint> {
  return VchanClient.connect(backendOf(state), { peer: peerOf(params), port: address as string, spinMicros: spinMicros(params) });
}

export async function listenXenipc(state: WorkerState, params: ConnectionParams): Promise<ListenResult> {
  const { address, connected } = await listenVchan(state, params);
  return { address, connection: connected.then((endpoint) => new XenipcEndpoint(endpoint)) };
}

export async function connectXenipc(state: WorkerState, params: ConnectionParams, address: unknown): Promise<Connection> {
  return new XenipcEndpoint(await connectVchan(state, params, address));
}

export async function listenRpcXenipc(state: WorkerState, params: ConnectionParams): Promise<ListenResult> {
  const { rpcOverVchan } = await import('./rpc-over-vchan.js');
  const { address, connected } = await listenVchan(state, params);
  return { address, connection: connected.then((endpoint) => rpcOverVchan(endpoint)) };
}

export async function connectRpcXenipc(state: WorkerState, params: ConnectionParams, address: unknown): Promise<Connection> {
  const { rpcOverVchan } = await import('./rpc-over-vchan.js');
  return rpcOverVchan(await connectVchan(state, params, address));
}

type FrameHandler = (bytes: Uint8Array, start: number, end: number) => void;

function unexpectedMessage(_bytes: Uint8Array, start: number, end: number): void {
  throw new Error(`xenipc bench: unexpected ${end - start}-byte message`);
}

function ignoreMessage(): void {}

export class XenipcEndpoint implements MessageEndpoint {
  private readonly channel: MessageChannel;
  /** What the current workload does with a received message (the channel's onFrame is fixed). */
  private handler: FrameHandler = unexpectedMessage;

  constructor(endpoint: VchanEndpoint) {
    this.channel = new MessageChannel(endpoint, { onFrame: (bytes, start, end) => this.handler(bytes, start, end) });
  }

  receiveStream(spec: StreamSpec): Promise<StreamReceiveResult> {
    return new Promise((resolve, reject) => {
      const checker = new StreamChecker(spec.size);
      this.handler = (bytes, start, end) => {
        try {
          if (!checker.accept(bytes, start, end - start)) return;
          this.handler = ignoreMessage;
          resolve({ endNs: hrtimeNs(), received: checker.received });
        } catch (error) {
          this.handler = ignoreMessage;
          reject(error);
        }
      };
    });
  }

  async sendStream(spec: StreamSpec): Promise<StreamSendResult> {
    if (spec.claim === true) return this.sendStreamInPlace(spec);
    const channel = this.channel;
    const payload = makePayload(spec.size);
    const deadline = performance.now() + spec.durationMs;
    const startNs = hrtimeNs();
    let sent = 0;
    for (;;) {
      for (let i = 0; i < CLOCK_EVERY; i++) {
        writeSequence(payload, 0, sent++);
        // send() keeps reading `payload` until it resolves, so it is awaited before the next write.
        if (!channel.trySend(payload)) await channel.send(payload);
      }
      if (performance.now() >= deadline) break;
    }
    writeSequence(payload, 0, END_OF_STREAM);
    if (!channel.trySend(payload)) await channel.send(payload);
    channel.flush();
    return { startNs, sent };
  }

  /**
   * Zero-copy: each message is built in the ring through a claim -- its sequence number, then
   * every other byte filled in place (the least a producer writing its message there does) --
   * and committed. The end marker likewise.
   */
  private async sendStreamInPlace(spec: StreamSpec): Promise<StreamSendResult> {
    const channel = this.channel;
    const size = spec.size;
    const deadline = performance.now() + spec.durationMs;
    const startNs = hrtimeNs();
    let sent = 0;
    const build = (claim: SendClaim, sequence: number): void => {
      const views = claim.views;
      const first = views[0] as Uint8Array;
      if (first.length >= SEQUENCE_BYTES && views.length === 1) {
        writeSequence(first, 0, sequence);
        first.fill(FILL_BYTE, SEQUENCE_BYTES);
      } else {
        // Wrapped: the sequence number may straddle the two views; the rest is filled per view.
        let i = 0;
        for (const view of views) {
          let j = 0;
          for (; j < view.length && i < SEQUENCE_BYTES; j++, i++) view[j] = (sequence >>> (8 * i)) & 0xff;
          view.fill(FILL_BYTE, j);
        }
      }
      claim.commit();
    };
    for (;;) {
      for (let i = 0; i < CLOCK_EVERY; i++) build(channel.claim(size) ?? (await channel.claimAsync(size)), sent++);
      if (performance.now() >= deadline) break;
    }
    build(channel.claim(size) ?? (await channel.claimAsync(size)), END_OF_STREAM);
    channel.flush();
    return { startNs, sent };
  }

  /** trySend, or queue if the ring is full; then publish at once, since a peer is waiting. */
  private sendNow(message: Uint8Array): void {
    const channel = this.channel;
    // send() keeps reading its argument until the ring has room; an onFrame view does not live that long.
    if (!channel.trySend(message)) void channel.send(message.slice()).catch(() => undefined);
    channel.flush();
  }

  serveEcho(): void {
    // trySend() copies at once, so a view of the frame is enough.
    this.handler = (bytes, start, end) => this.sendNow(bytes.subarray(start, end));
  }

  pingPong(spec: PingPongSpec): Promise<RoundTripSamples> {
    const payload = makePayload(spec.size);
    const total = spec.warmup + spec.iterations;
    const rttNs = new Array<number>(spec.iterations);
    return new Promise((resolve, reject) => {
      let done = 0;
      let sentAt = 0;
      this.handler = (_bytes, start, end) => {
        const now = performance.now();
        if (end - start !== spec.size) {
          this.handler = ignoreMessage;
          reject(new Error(`echo of ${end - start} bytes, expected ${spec.size}`));
          return;
        }
        if (done >= spec.warmup) rttNs[done - spec.warmup] = (now - sentAt) * 1e6;
        if (++done === total) {
          this.handler = ignoreMessage;
          resolve({ rttNs });
          return;
        }
        sentAt = performance.now();
        this.sendNow(payload);
      };
      sentAt = performance.now();
      this.sendNow(payload);
    });
  }

  async close(): Promise<void> {
    this.handler = ignoreMessage;
    await this.channel.close();
  }
}
