/**
 * Entry point of the detached host daemon that joinSimulatedHost() starts on demand:
 * `node host-entry.js <dir>`. Exits when no domain has been connected for XENIPC_SIM_IDLE_MS
 * (default 2000 ms), on SIGTERM/SIGINT, or at once if another host already serves <dir>.
 */
import { startSimulatedHost } from './simulated-host.js';
import { XenError } from '@xenipc/core';

const IDLE_ENV = 'XENIPC_SIM_IDLE_MS';

async function main(): Promise<number> {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: host-entry <sim-dir>\n');
    return 2;
  }
  const idle = Number(process.env[IDLE_ENV] ?? '2000');
  try {
    const host = await startSimulatedHost({ dir, idleExitMs: Number.isFinite(idle) && idle > 0 ? idle : 2000 });
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void host.close());
    await host.closed;
    return 0;
  } catch (err) {
    if (XenError.is(err, 'EADDRINUSE')) return 0; // someone else started it first: fine
    process.stderr.write(`xenipc sim host: ${(err as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
