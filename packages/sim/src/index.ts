// @xenipc/sim: Xen hosts without Xen. The API section of ../README.md lists every export.
export * from './simulated-host/index.js';
export * from './loopback/index.js';
export * from './xenstored/index.js';
export * from './backend-choice.js';
