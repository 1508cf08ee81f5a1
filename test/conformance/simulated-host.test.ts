/** The conformance suites on the simulated host (domains in this process and in child processes). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { getSimLedger, joinSimulatedHost, type SimBackend, type SimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { describeBackendConformance } from './backend-conformance.js';
import { SIMULATED_HOST_CAPABILITIES, simulatedHostHarness } from './simulated-host-harness.js';
import { describeXenStoreConformance } from './xenstore-conformance.js';

describeBackendConformance('simulated host', SIMULATED_HOST_CAPABILITIES, simulatedHostHarness);

let dir: string;
let host: SimulatedHost;
/** Every xenstore connection of the suite belongs to one domain, as on real Xen. */
let domain: SimBackend | undefined;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xenipc-xs-conformance-'));
  host = await startSimulatedHost({ dir });
});
afterAll(async () => {
  await domain?.close();
  expect((await getSimLedger(dir)).domains).toEqual([]);
  await host.close();
  rmSync(dir, { recursive: true });
});
describeXenStoreConformance('simulated host', async () => {
  domain ??= await joinSimulatedHost({ dir, autoStart: false });
  return domain.connectXenStore();
});
