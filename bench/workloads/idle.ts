/**
 * CPU use of an idle open connection: both workers wait for messages (serveEcho) on an open
 * connection while nothing is sent; each reports process.cpuUsage over the window. The
 * orchestrator measures itself too, since it hosts the simulated Xen host.
 */
import type { IdleCell } from '../results-model.js';
import type { MessageTransport } from '../transports/transport-name.js';
import type { IdleResult } from '../worker/commands.js';
import { measureIdleCpu } from '../worker/commands.js';
import { closeConnection, openConnection, type BenchContext } from './bench-context.js';

function percent(result: IdleResult): number {
  return (100 * result.cpuMicros) / result.wallMicros;
}

export async function measureIdle(context: BenchContext, label: string, transport: MessageTransport, spin: boolean | null): Promise<IdleCell> {
  const ms = context.options.idleMs;
  const pair = await openConnection(context, transport, spin === null ? {} : { spin });
  try {
    await Promise.all([pair.call('a', 'serveEcho'), pair.call('b', 'serveEcho')]);
    // Let connection set-up traffic and GC settle before the window starts.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [a, b, host] = await Promise.all([
      pair.call<IdleResult>('a', 'idle', { ms }),
      pair.call<IdleResult>('b', 'idle', { ms }),
      measureIdleCpu(ms),
    ]);
    return { label, seconds: ms / 1000, cpuPercentA: percent(a), cpuPercentB: percent(b), cpuPercentHost: percent(host), errors: [] };
  } finally {
    await closeConnection(pair);
  }
}
