// The simulated Xen host: a host daemon shared by several OS processes, one domain each.
export { startSimulatedHost, type SimulatedHost, type StartSimulatedHostOptions } from './simulated-host.js';
export { joinSimulatedHost, type JoinSimulatedHostOptions } from './join-simulated-host.js';
export { getSimLedger } from './sim-ledger.js';
export { SimBackend, type SimDomainResources } from './sim-backend.js';
export { SimEventChannel } from './sim-event-channel.js';
export { SimGrantedPages, SimForeignMapping } from './sim-grants.js';
export { SIM_DIR_ENV, defaultSimDir, hostSocketPath } from './sim-dir.js';
export { DEFAULT_GRANT_LIMIT } from './host-grant-table.js';
export { PORTS_PER_DOMAIN } from './host-event-channels.js';
export type { SimLedger, SimLedgerDomain } from './host-protocol.js';
