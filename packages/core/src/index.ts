// @xenipc/core: what a program needs to talk to a Xen host. The API section of ../README.md lists
// every export; implementers of another host (see @xenipc/sim) also use './backend-kit.ts'.
export * from './xen-error.js';
export * from './backend/xen-backend.js';
export * from './native/index.js';
export * from './real-xen/index.js';
export * from './xenstore/index.js';
