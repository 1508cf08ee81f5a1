/**
 * What the orchestrator's workloads share: options, the worker pairs (one per transport family, so
 * that a crash or a heap full of one transport's garbage cannot disturb another), and the domain
 * ids of the xenipc pair on the simulated host.
 */
import type { CacheLineProbe } from '../control/cache-line-round-trip.js';
import type { WorkerPair } from '../control/worker-pair.js';
import type { BenchOptions } from '../options.js';
import type { ConnectionParams, TransportName } from '../transports/transport-name.js';

export interface BenchContext {
  options: BenchOptions;
  pairs: {
    xenipc: WorkerPair | undefined;
    unixSocket: WorkerPair;
    childIpc: WorkerPair;
    memcpy: WorkerPair;
  };
  /** Set once the xenipc pair has joined the simulated host. */
  domids: { a: number; b: number } | undefined;
  /** Why xenipc cannot be measured in this run, if it cannot. */
  xenipcUnavailable: string | undefined;
  /** Unique connection names (socket paths, vchan ports). */
  nextName(): string;
  /** The C ring baseline's binary (built at start), or why there is none. */
  cRing: { path: string } | { unavailable: string };
  /** Measures where the host runs the two vCPUs, before and after each measurement; or why not. */
  cacheLineProbe: CacheLineProbe | { unavailable: string };
  /** Notes for the results file (e.g. cells skipped on this machine). */
  notes: string[];
}

export function pairFor(context: BenchContext, transport: TransportName): WorkerPair {
  switch (transport) {
    case 'xenipc':
    case 'rpc-xenipc': {
      if (context.pairs.xenipc === undefined) throw new Error(`xenipc unavailable: ${context.xenipcUnavailable ?? 'not started'}`);
      return context.pairs.xenipc;
    }
    case 'unix-socket':
    case 'rpc-unix-socket':
      return context.pairs.unixSocket;
    case 'child-ipc':
      return context.pairs.childIpc;
  }
}

/** Opens one connection, worker A listening and worker B connecting. */
export async function openConnection(
  context: BenchContext,
  transport: TransportName,
  params: Omit<ConnectionParams, 'name' | 'peerDomid'>,
): Promise<WorkerPair> {
  const pair = pairFor(context, transport);
  const name = context.nextName();
  const address = await pair.call('a', 'listen', { transport, params: { ...params, name, peerDomid: context.domids?.b } });
  await pair.call('b', 'connect', { transport, params: { ...params, name, peerDomid: context.domids?.a }, address });
  await pair.call('a', 'accept');
  return pair;
}

export async function closeConnection(pair: WorkerPair): Promise<void> {
  await Promise.all([pair.call('a', 'close'), pair.call('b', 'close')]);
}
