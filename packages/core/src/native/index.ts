// The native device layer: mappings (with or without Xen) and the Xen device wrappers.
export { MemoryMapping, mapFile, mapFilePages, memfdCreate, MAX_MAPPING_BYTES, type FilePage, type MapOptions } from './memory-mapping.js';
export { ADDON_PATH_ENV, addonCandidatePaths } from './load-addon.js';
