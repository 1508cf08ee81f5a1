// The simulated xenstored: one store (XsTree) served over xs_wire, used by both hosts.
export { XenStoreServer, XS_DEFAULT_WATCH_QUOTA, XS_DEFAULT_TRANSACTION_QUOTA, type XenStoreServerOptions } from './xs-server.js';
export { XsTree, XsStoreError, permissionFor, type XsCaller, type XsNode } from './xs-tree.js';
