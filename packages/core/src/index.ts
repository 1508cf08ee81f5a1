export * from './xen-error.js';
export * from './backend/xen-backend.js';
export * from './backend/validate-args.js';
export * from './native/index.js';
export * from './xen/index.js';
export * from './xenstore/index.js';
export * from './sim/index.js';
export * from './loopback/index.js';
