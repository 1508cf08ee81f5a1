// The xenstore client (real Xen and the simulated host).
export { connectXenStore, XENSTORED_SOCKET_PATH, XENBUS_DEVICE_PATHS, type ConnectXenStoreOptions } from './connect-xenstore.js';
export { XenStoreClient, type XenStoreClientOptions } from './xs-client.js';
export { runTransaction, XS_TRANSACTION_RETRIES } from './run-transaction.js';
export { XenbusDeviceStream } from './xenbus-device-stream.js';
export { domainPath } from './xs-path.js';
