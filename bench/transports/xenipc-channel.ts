/** xenipc: @xenipc/channel over the simulated Xen host. (Filled in once the channel lands.) */
import type { ConnectionParams } from './transport-name.js';
import type { WorkerState } from '../worker/worker-state.js';
import type { ListenResult, Connection } from '../worker/open-connection.js';

export async function joinSimulatedHostForBench(state: WorkerState, args: { dir: string }): Promise<number> {
  const core = (await import('@xenipc/core')) as Record<string, unknown>;
  const join = core.joinSimulatedHost as ((options: { dir: string }) => Promise<{ domid: number }>) | undefined;
  if (typeof join !== 'function') throw new Error('@xenipc/core does not export joinSimulatedHost yet');
  const backend = await join({ dir: args.dir });
  state.backend = backend;
  return backend.domid;
}

export async function listenXenipc(_state: WorkerState, _params: ConnectionParams): Promise<ListenResult> {
  throw new Error('@xenipc/channel is not available yet');
}

export async function connectXenipc(_state: WorkerState, _params: ConnectionParams, _address: unknown): Promise<Connection> {
  throw new Error('@xenipc/channel is not available yet');
}

export async function listenRpcXenipc(_state: WorkerState, _params: ConnectionParams): Promise<ListenResult> {
  throw new Error('@xenipc/rpc has no channel transport yet');
}

export async function connectRpcXenipc(_state: WorkerState, _params: ConnectionParams, _address: unknown): Promise<Connection> {
  throw new Error('@xenipc/rpc has no channel transport yet');
}
