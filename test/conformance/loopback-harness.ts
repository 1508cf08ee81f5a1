/** The loopback host (one process, many domains) as a conformance harness. */
import { createLoopbackHost, DEFAULT_GRANT_LIMIT, type LoopbackHost } from '@xenipc/sim';
import { LocalDomain } from '../support/domain-driver.js';
import type { BackendHarness, HostCapabilities, KillableDomain } from './backend-harness.js';

export const LOOPBACK_CAPABILITIES: HostCapabilities = {
  distinctDomains: true,
  knowsPortStatus: true,
  grantLimit: DEFAULT_GRANT_LIMIT,
  endsDomains: true,
};

class LoopbackDomain extends LocalDomain implements KillableDomain {
  constructor(private readonly host: LoopbackHost, domid: number) {
    super(host.domain(domid));
  }
  kill(): Promise<void> {
    this.host.crash(this.domid);
    return Promise.resolve();
  }
}

export function loopbackHarness(): BackendHarness {
  let host = createLoopbackHost();
  let nextDomid = 1;
  const opened: LoopbackDomain[] = [];
  const open = (domid: number): LoopbackDomain => {
    const domain = new LoopbackDomain(host, domid);
    opened.push(domain);
    return domain;
  };
  return {
    domain: () => Promise.resolve(open(nextDomid++)),
    killableDomain: () => Promise.resolve(open(nextDomid++)),
    controlDomain: () => Promise.resolve(open(0)),
    endDomain: (domain) => Promise.resolve(host.destroyDomain(domain.domid)),
    async afterEach() {
      for (const domain of opened.splice(0)) await domain.close();
      host.assertCleanedUp();
      host = createLoopbackHost(); // destroyed domains stay dead: every test starts on a fresh host
    },
    close: () => Promise.resolve(),
  };
}
