// The native device layer: mappings (with or without Xen) and the Xen device wrappers.
export { MemoryMapping, mapFile, mapFilePages, memfdCreate, MAX_MAPPING_BYTES, type FilePage, type MapOptions } from './memory-mapping.js';
export { ADDON_PATH_ENV } from './load-addon.js';
export { loadCpuYield } from './cpu-yield.js';
export { XenDevice, type OpenDeviceOptions } from './xen-device.js';
export { DEFAULT_DEVICE_PATHS, GNTALLOC_LIMIT_PATH, type XenDeviceName } from './device-errors.js';
export { GrantMapper, GrantMapping, GNTDEV_MAX_PAGES_PER_CALL, type GrantMapOptions, type DmabufFlag } from './grant-mapper.js';
export { GrantAllocator, SharedGrantPages, GNTALLOC_MAX_PAGES_PER_CALL, type ShareOptions } from './grant-allocator.js';
export { EventChannelDevice, type PortListener } from './event-channel-device.js';
export { PendingPortPoller, PORTS_PER_READ, type PendingPortHandlers } from './pending-port-poller.js';
export { MAX_GRANT_COPY_SEGMENTS, type GrantCopyEnd, type GrantCopySegment } from './grant-copy.js';
export type { UnmapNotifyRequest } from './unmap-notify-args.js';
export * from './uapi-constants.js';
