/**
 * What a benchmark worker can do with one open connection. Each transport implements these
 * workloads in its own idiomatic, efficient way (batching for sockets, trySend for channels), so
 * that the comparison is between good uses of each transport, not between adapters.
 */

/** Stream `size`-byte messages one way for `durationMs`, then an end marker. */
export interface StreamSpec {
  size: number;
  durationMs: number;
  /**
   * xenipc only: build each message in the ring (MessageChannel claim/commit: the sequence number,
   * then every other byte written in place with fill()) instead of copying a prepared buffer with
   * trySend()/send().
   */
  claim?: boolean;
}

export interface StreamSendResult {
  /** process.hrtime (CLOCK_MONOTONIC, shared by all processes on the machine) before the first send, ns. */
  startNs: number;
  sent: number;
}

export interface StreamReceiveResult {
  /** process.hrtime when the end marker arrived, ns. */
  endNs: number;
  received: number;
}

export interface PingPongSpec {
  size: number;
  iterations: number;
  /** Round trips run first and thrown away (JIT, caches, the peer's wake-up path). */
  warmup: number;
}

export interface RoundTripSamples {
  /** One entry per measured round trip, ns. */
  rttNs: number[];
}

/** One side of an open message connection. */
export interface MessageEndpoint {
  /** Installs the receive path synchronously; the promise settles when the end marker arrives. */
  receiveStream(spec: StreamSpec): Promise<StreamReceiveResult>;
  sendStream(spec: StreamSpec): Promise<StreamSendResult>;
  /** Sends every message back, unchanged, until closed. Also the "idle, waiting for data" state. */
  serveEcho(): void;
  pingPong(spec: PingPongSpec): Promise<RoundTripSamples>;
  close(): Promise<void>;
}

export interface RpcRoundTripSpec {
  iterations: number;
  warmup: number;
}

export interface RpcPipelineSpec {
  durationMs: number;
  /** Calls kept outstanding at once. */
  window: number;
}

export interface RpcPipelineResult {
  calls: number;
  seconds: number;
}

/** One side of an open RPC connection: the listener serves, the connector calls. */
export interface RpcEndpoint {
  serve(): void;
  roundTrip(spec: RpcRoundTripSpec): Promise<RoundTripSamples>;
  pipelined(spec: RpcPipelineSpec): Promise<RpcPipelineResult>;
  close(): Promise<void>;
}

export function hrtimeNs(): number {
  return Number(process.hrtime.bigint());
}
