/**
 * Real Xen as a conformance harness, run in dom0 alone: every domain of the suite is dom0 (Xen
 * lets a domain grant to itself and bind an event channel to itself), killable ones are child
 * processes on the real devices. Linux's evtchn device cannot ask a port's status ('unknown').
 */
import { openXenBackend } from '@xenipc/core';
import type { BackendHarness, HostCapabilities, KillableDomain } from '../../conformance/backend-harness.js';
import { LocalDomain, type DomainHandle } from '../../support/domain-driver.js';
import { DomainProcess } from '../../support/domain-process.js';

export const REAL_XEN_CAPABILITIES: HostCapabilities = {
  distinctDomains: false,
  knowsPortStatus: false,
  grantLimit: undefined,
  endsDomains: false,
};

export function realXenHarness(): BackendHarness {
  const opened: DomainHandle[] = [];
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
    },
    close: () => Promise.resolve(),
  };
}
