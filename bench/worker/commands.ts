/**
 * The steps of each workload, as run inside a worker. The orchestrator sequences them across
 * the two workers (e.g. arm the receiver, then start the sender, then collect the receiver).
 */
import { measureBareRing, type BareRingSpec } from '../transports/bare-ring-floor.js';
import { measureMemcpy, type MemcpySpec } from '../transports/memcpy-ceiling.js';
import { measureTwoCopy, type TwoCopySpec } from '../transports/two-copy-ceiling.js';
import type { ConnectionParams, TransportName } from '../transports/transport-name.js';
import type {
  MessageEndpoint,
  PingPongSpec,
  RpcEndpoint,
  RpcPipelineSpec,
  RpcRoundTripSpec,
  StreamSpec,
} from './endpoint.js';
import { connect, listen } from './open-connection.js';
import type { WorkerState } from './worker-state.js';

export interface OpenArgs {
  transport: TransportName;
  params: ConnectionParams;
  /** Present for the connecting side: what the listener's `open` returned. */
  address?: unknown;
}

export interface IdleResult {
  cpuMicros: number;
  wallMicros: number;
}

function messageEndpoint(state: WorkerState): MessageEndpoint {
  const connection = state.connection;
  if (connection === undefined || !('sendStream' in connection)) throw new Error('no open message connection');
  return connection;
}

function rpcEndpoint(state: WorkerState): RpcEndpoint {
  const connection = state.connection;
  if (connection === undefined || !('pipelined' in connection)) throw new Error('no open RPC connection');
  return connection;
}

export async function runCommand(state: WorkerState, op: string, args: unknown): Promise<unknown> {
  switch (op) {
    case 'ping':
      return { pid: process.pid };
    case 'joinSim': {
      const { joinSimulatedHostForBench } = await import('../transports/xenipc-channel.js');
      return joinSimulatedHostForBench(state, args as { dir: string });
    }
    case 'listen': {
      const { transport, params } = args as OpenArgs;
      const result = await listen(state, transport, params);
      state.pendingConnection = result.connection;
      // A failed connection is reported by 'accept'; do not crash on an unhandled rejection.
      result.connection.catch(() => undefined);
      return result.address;
    }
    case 'connect': {
      const { transport, params, address } = args as OpenArgs;
      state.connection = await connect(state, transport, params, address);
      return null;
    }
    case 'accept': {
      if (state.pendingConnection === undefined) throw new Error('accept without listen');
      state.connection = await state.pendingConnection;
      state.pendingConnection = undefined;
      return null;
    }
    case 'close': {
      const connection = state.connection;
      state.connection = undefined;
      state.pendingReceive = undefined;
      await connection?.close();
      return null;
    }
    case 'receiveStream': {
      const pending = messageEndpoint(state).receiveStream(args as StreamSpec);
      pending.catch(() => undefined);
      state.pendingReceive = pending;
      return null;
    }
    case 'collectStream': {
      if (state.pendingReceive === undefined) throw new Error('collectStream without receiveStream');
      const result = await state.pendingReceive;
      state.pendingReceive = undefined;
      return result;
    }
    case 'sendStream':
      return messageEndpoint(state).sendStream(args as StreamSpec);
    case 'serveEcho':
      messageEndpoint(state).serveEcho();
      return null;
    case 'pingPong':
      return messageEndpoint(state).pingPong(args as PingPongSpec);
    case 'rpcServe':
      rpcEndpoint(state).serve();
      return null;
    case 'rpcRoundTrip':
      return rpcEndpoint(state).roundTrip(args as RpcRoundTripSpec);
    case 'rpcPipelined':
      return rpcEndpoint(state).pipelined(args as RpcPipelineSpec);
    case 'idle':
      return measureIdleCpu((args as { ms: number }).ms);
    case 'memcpy':
      return measureMemcpy(args as MemcpySpec);
    case 'twoCopy':
      return measureTwoCopy(args as TwoCopySpec);
    case 'bareRing':
      return measureBareRing(args as BareRingSpec);
    default:
      throw new Error(`unknown worker command ${op}`);
  }
}

/** CPU this whole process uses while it sits with its connection open and nothing to do. */
export async function measureIdleCpu(ms: number): Promise<IdleResult> {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const cpu = process.cpuUsage(cpuBefore);
  return { cpuMicros: cpu.user + cpu.system, wallMicros: (performance.now() - wallBefore) * 1000 };
}
