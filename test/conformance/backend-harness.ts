/**
 * What the backend conformance suite needs from a host implementation. Each host (loopback,
 * simulated, real Xen) provides one harness; the suite (backend-conformance.ts) is written once.
 * Capabilities name real differences between hosts; where a host differs from real Xen without a
 * reason it is a bug in that host, not a capability.
 */
import type { DomainHandle } from '../support/domain-driver.js';

export interface KillableDomain extends DomainHandle {
  /** The domain's process dies by SIGKILL (or the host's equivalent): no code of it runs any more. */
  kill(): Promise<void>;
}

/** Known before any host starts, so that a test a host cannot run is skipped by name, not passed. */
export interface HostCapabilities {
  /** Every opened domain has its own domid (false on real Xen run in one domain: all are dom0). */
  readonly distinctDomains: boolean;
  /** status() tells 'interdomain' from 'unbound' (Linux's evtchn device cannot: 'unknown'). */
  readonly knowsPortStatus: boolean;
  /** The per-domain limit on granted pages (gntalloc's `limit`), or undefined where it cannot be relied on. */
  readonly grantLimit: number | undefined;
  /** The harness can end a whole domain (endDomain). */
  readonly endsDomains: boolean;
}

export interface BackendHarness {
  /** A new domain whose backend lives in this process. */
  domain(): Promise<DomainHandle>;
  /** A new domain that the test can kill. */
  killableDomain(): Promise<KillableDomain>;
  /**
   * The whole domain ends (xl destroy, or a simulated domain's only process dying): its home leaves
   * xenstore, @releaseDomain fires, its ports vanish. Undefined where the harness cannot end a domain.
   */
  endDomain?: (domain: KillableDomain) => Promise<void>;
  /** A privileged domain (dom0), e.g. to watch @releaseDomain. */
  controlDomain(): Promise<DomainHandle>;
  /** Closes every domain the test opened and checks the host holds nothing of them any more. */
  afterEach(): Promise<void>;
  close(): Promise<void>;
}
