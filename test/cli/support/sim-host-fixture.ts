/** A simulated Xen host in a private temp dir for one test file, removed afterwards. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SimulatedHost, startSimulatedHost } from '@xenipc/sim';

export interface SimHostFixture {
  dir: string;
  host: SimulatedHost;
  /** Environment for child processes: XENIPC_SIM_DIR set, --backend sim implied (no /dev/xen here). */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function startSimHostFixture(): Promise<SimHostFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'xenipc-cli-test-'));
  const host = await startSimulatedHost({ dir });
  return {
    dir,
    host,
    env: { ...process.env, XENIPC_SIM_DIR: dir },
    async close() {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
