/**
 * Real Xen as a backend conformance harness (test/conformance/backend-harness.ts), run as root in
 * the rig's dom0: every domain is dom0, each with its own devices; ordinary ones in this process,
 * killable ones are child processes (test/support/domain.fixture.ts, compiled). Differences from
 * the other hosts are capabilities, not exceptions: one domain for all (a grant or port offered to
 * "another" domain is offered to ourselves), Linux's evtchn device cannot tell a port's status, and
 * the harness does not end domains (cross-domain/vchan-domain-destroy.xen.test.ts destroys the
 * domU).
 */
import { readFileSync } from 'node:fs';
import { openXenBackend } from '@xenipc/core';
import { expect } from 'vitest';
import type { BackendHarness, HostCapabilities, KillableDomain } from '../../conformance/backend-harness.js';
import { LocalDomain, type DomainHandle } from '../../support/domain-driver.js';
import { DomainProcess } from '../../support/domain-process.js';
import { processLedger } from '../peer/resource-ledger.js';

/** gntalloc's page limit, as this domain's kernel has it; nothing else holds pages while the suite runs. */
function gntallocLimit(): number | undefined {
  try {
    return Number(readFileSync('/sys/module/xen_gntalloc/parameters/limit', 'utf8').trim());
  } catch {
    return undefined;
  }
}

export const REAL_XEN_CAPABILITIES: HostCapabilities = {
  distinctDomains: false,
  knowsPortStatus: false,
  grantLimit: gntallocLimit(),
  endsDomains: false,
};

export async function realXenHarness(): Promise<BackendHarness> {
  const opened: DomainHandle[] = [];
  const baseline = processLedger();
  const local = async (): Promise<DomainHandle> => {
    const domain = new LocalDomain(await openXenBackend());
    opened.push(domain);
    return domain;
  };
  return {
    domain: local,
    controlDomain: local,
    async killableDomain(): Promise<KillableDomain> {
      const domain = new DomainProcess({ kind: 'xen' });
      opened.push(domain);
      await domain.join();
      return domain;
    },
    async afterEach() {
      await Promise.all(opened.splice(0).map((domain) => domain.close()));
      // Nothing of the test's domains stays mapped or open in this process.
      expect(processLedger()).toEqual(baseline);
    },
    async close() {},
  };
}
