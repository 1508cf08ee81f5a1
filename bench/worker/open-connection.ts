/**
 * Opens one connection of the requested transport. The listener side returns the address the
 * connector needs plus a promise of its own end; the connector returns its end once connected.
 * xenipc and RPC modules are imported lazily so that the baselines run even while those
 * packages are incomplete.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildIpcEndpoint, type IpcPort } from '../transports/child-ipc.js';
import type { ConnectionParams, TransportName } from '../transports/transport-name.js';
import { connectUnixSocket, listenUnixSocket, UnixSocketEndpoint } from '../transports/unix-socket.js';
import type { MessageEndpoint, RpcEndpoint } from './endpoint.js';
import type { WorkerState } from './worker-state.js';

export type Connection = MessageEndpoint | RpcEndpoint;

export interface ListenResult {
  address: unknown;
  connection: Promise<Connection>;
}

function socketPath(params: ConnectionParams): string {
  return join(tmpdir(), `xenipc-bench-${params.name}.sock`);
}

function childIpcPort(state: WorkerState): IpcPort {
  if (state.side === 'a') {
    if (state.child === undefined) throw new Error('child-ipc needs worker A to have spawned worker B');
    return state.child as IpcPort;
  }
  return process as unknown as IpcPort;
}

export async function listen(state: WorkerState, transport: TransportName, params: ConnectionParams): Promise<ListenResult> {
  switch (transport) {
    case 'unix-socket': {
      const listening = await listenUnixSocket(socketPath(params));
      return { address: listening.address, connection: listening.accepted.then((s) => new UnixSocketEndpoint(s, params.oneWritePerMessage)) };
    }
    case 'child-ipc':
      return { address: null, connection: Promise.resolve(new ChildIpcEndpoint(childIpcPort(state))) };
    case 'xenipc': {
      const { listenXenipc } = await import('../transports/xenipc-channel.js');
      return listenXenipc(state, params);
    }
    case 'rpc-unix-socket': {
      const { RpcPeerEndpoint } = await import('../transports/rpc-endpoint.js');
      const listening = await listenUnixSocket(socketPath(params));
      return { address: listening.address, connection: listening.accepted.then((s) => RpcPeerEndpoint.overSocket(s)) };
    }
    case 'rpc-xenipc': {
      const { listenRpcXenipc } = await import('../transports/xenipc-channel.js');
      return listenRpcXenipc(state, params);
    }
  }
}

export async function connect(state: WorkerState, transport: TransportName, params: ConnectionParams, address: unknown): Promise<Connection> {
  switch (transport) {
    case 'unix-socket':
      return new UnixSocketEndpoint(await connectUnixSocket(address as string), params.oneWritePerMessage);
    case 'child-ipc':
      return new ChildIpcEndpoint(childIpcPort(state));
    case 'xenipc': {
      const { connectXenipc } = await import('../transports/xenipc-channel.js');
      return connectXenipc(state, params, address);
    }
    case 'rpc-unix-socket': {
      const { RpcPeerEndpoint } = await import('../transports/rpc-endpoint.js');
      return RpcPeerEndpoint.overSocket(await connectUnixSocket(address as string));
    }
    case 'rpc-xenipc': {
      const { connectRpcXenipc } = await import('../transports/xenipc-channel.js');
      return connectRpcXenipc(state, params, address);
    }
  }
}
