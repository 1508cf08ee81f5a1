export * from './xen-error.js';
export * from './backend/xen-backend.js';
export * from './backend/validate-args.js';
