/**
 * `@xenipc/core/backend-kit`: the pieces for implementing a XenBackend or a xenstore server
 * (as @xenipc/sim does): argument checks with Xen's errors, the xs_wire codec, xenstore path and
 * permission rules, and the raw native addon. Applications do not need this entry point.
 */
export { MAX_PAGES_PER_CALL, checkDomid, checkU32, checkPageCount, checkGrantRefs, checkPort, checkNotifyOffset } from './backend/validate-args.js';
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
} from './xenstore/xs-wire.js';
export { domainPath, isSpecialPath, resolveXsPath, relativeTo, parentPath, isAtOrBelow, pathComponents } from './xenstore/xs-path.js';
export { formatXsPermission, parseXsPermission, allowsRead, allowsWrite } from './xenstore/xs-permissions.js';
export { ADDON_PATH_ENV, addonCandidatePaths, loadAddon } from './native/load-addon.js';
export type { NativeAddon, NativeUapi, NativePortPoller } from './native/native-addon.js';
