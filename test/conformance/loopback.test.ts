/** The conformance suites on the loopback host (one process, many domains). */
import { afterAll } from 'vitest';
import { createLoopbackHost } from '@xenipc/sim';
import { describeBackendConformance } from './backend-conformance.js';
import { loopbackHarness, LOOPBACK_CAPABILITIES } from './loopback-harness.js';
import { describeXenStoreConformance } from './xenstore-conformance.js';

describeBackendConformance('loopback host', LOOPBACK_CAPABILITIES, () => Promise.resolve(loopbackHarness()));

const xenstoreHost = createLoopbackHost();
describeXenStoreConformance('loopback host', () => Promise.resolve(xenstoreHost.connectXenStore(1)));
afterAll(() => xenstoreHost.assertCleanedUp());
