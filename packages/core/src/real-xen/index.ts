// The XenBackend over the real Xen devices.
export { openXenBackend, type OpenXenBackendOptions } from './open-xen-backend.js';
export { readOwnDomid, isControlDomain, XEN_CAPABILITIES_PATH } from './own-domid.js';
export { XenEventChannel } from './xen-event-channel.js';
