// The xenstore client (real Xen and the simulated host) and the simulated xenstored.
export { connectXenStore, XENSTORED_SOCKET_PATH, XENBUS_DEVICE_PATHS, type ConnectXenStoreOptions } from './connect-xenstore.js';
export { XenStoreClient } from './xs-client.js';
export { runTransaction, XS_TRANSACTION_RETRIES } from './run-transaction.js';
export { XenbusDeviceStream } from './xenbus-device-stream.js';
export { XenStoreServer, XS_DEFAULT_WATCH_QUOTA, XS_DEFAULT_TRANSACTION_QUOTA, type XenStoreServerOptions } from './xs-server.js';
export { XsTree, XsStoreError, permissionFor, type XsCaller, type XsNode } from './xs-tree.js';
export { formatXsPermission, parseXsPermission } from './xs-permissions.js';
export { domainPath, resolveXsPath } from './xs-path.js';
export {
  XsMessageType,
  XsFrameDecoder,
  XsProtocolError,
  encodeXsMessage,
  nulTerminated,
  splitNul,
  XS_HEADER_SIZE,
  XS_PAYLOAD_MAX,
  XS_ABS_PATH_MAX,
  type XsMessage,
} from './xs-wire.js';
