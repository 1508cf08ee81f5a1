/** RPC endpoints over @xenipc/rpc. (Filled in once rpc lands.) */
import type net from 'node:net';
import type { ConnectionParams } from './transport-name.js';
import type { WorkerState } from '../worker/worker-state.js';
import type { ListenResult, Connection } from '../worker/open-connection.js';
import type { RpcEndpoint } from '../worker/endpoint.js';

export const RpcSocketEndpoint = {
  over(_socket: net.Socket): RpcEndpoint {
    throw new Error('@xenipc/rpc is not available yet');
  },
};

export async function listenRpcXenipc(_state: WorkerState, _params: ConnectionParams): Promise<ListenResult> {
  throw new Error('@xenipc/rpc is not available yet');
}

export async function connectRpcXenipc(_state: WorkerState, _params: ConnectionParams, _address: unknown): Promise<Connection> {
  throw new Error('@xenipc/rpc is not available yet');
}
