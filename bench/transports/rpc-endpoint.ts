/**
 * RPC endpoints: @xenipc/rpc's RpcPeer over a Unix socket (the msgpack-rpc baseline: the same
 * library, the socket transport) or over a xenipc channel. The served method is a small call,
 * add(a, b) -> a + b: an array of three small values each way, as cheap as msgpack-rpc gets.
 */
import type net from 'node:net';
import { createStreamPeer, type RpcPeer } from '@xenipc/rpc';
import { type RoundTripSamples, type RpcEndpoint, type RpcPipelineResult, type RpcPipelineSpec, type RpcRoundTripSpec } from '../worker/endpoint.js';

export const SMALL_METHOD = 'add';

function add(a: number, b: number): number {
  return a + b;
}

export class RpcPeerEndpoint implements RpcEndpoint {
  /** `closeUnderlying` releases what the peer runs over (the channel; sockets close with the peer). */
  constructor(
    private readonly peer: RpcPeer,
    private readonly closeUnderlying: () => Promise<void> = async () => undefined,
  ) {}

  static overSocket(socket: net.Socket): RpcPeerEndpoint {
    // No per-call timeout: a timer per call would tax both transports alike and measure nothing.
    return new RpcPeerEndpoint(createStreamPeer(socket, { timeoutMs: 0 }));
  }

  serve(): void {
    this.peer.register(SMALL_METHOD, add);
  }

  async roundTrip(spec: RpcRoundTripSpec): Promise<RoundTripSamples> {
    const peer = this.peer;
    for (let i = 0; i < spec.warmup; i++) await peer.call(SMALL_METHOD, i, 1);
    const rttNs = new Array<number>(spec.iterations);
    for (let i = 0; i < spec.iterations; i++) {
      const start = performance.now();
      const sum = await peer.call<number>(SMALL_METHOD, i, 1);
      rttNs[i] = (performance.now() - start) * 1e6;
      if (sum !== i + 1) throw new Error(`add(${i}, 1) returned ${sum}`);
    }
    return { rttNs };
  }

  pipelined(spec: RpcPipelineSpec): Promise<RpcPipelineResult> {
    const peer = this.peer;
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const deadline = started + spec.durationMs;
      let completed = 0;
      let inFlight = 0;
      let stopping = false;
      let failed = false;
      const onResult = (): void => {
        completed++;
        inFlight--;
        if (!stopping && (completed & 63) === 0 && performance.now() >= deadline) stopping = true;
        if (!stopping) issue();
        else if (inFlight === 0) resolve({ calls: completed, seconds: (performance.now() - started) / 1000 });
      };
      const onError = (error: unknown): void => {
        if (!failed) reject(error);
        failed = true;
        stopping = true;
      };
      const issue = (): void => {
        inFlight++;
        peer.call(SMALL_METHOD, completed, 1).then(onResult, onError);
      };
      for (let i = 0; i < spec.window; i++) issue();
    });
  }

  async close(): Promise<void> {
    this.peer.close();
    await this.closeUnderlying();
  }
}

