/**
 * Path rules of xenstored (docs/misc/xenstore.txt): absolute paths start with "/", relative
 * ones resolve under /local/domain/<domid>/; components use [A-Za-z0-9_-@] and are separated by
 * single slashes; "@..." names are special watch-only nodes (@introduceDomain, @releaseDomain).
 */
import type { DomId } from '../backend/xen-backend.js';
import { XS_ABS_PATH_MAX, XS_REL_PATH_MAX } from './xs-wire.js';

const VALID_PATH = /^[A-Za-z0-9_\-@/]+$/;

export function domainPath(domid: DomId): string {
  return `/local/domain/${domid}`;
}

export function isSpecialPath(path: string): boolean {
  return path.startsWith('@');
}

/**
 * The absolute form of `path` as seen by `domid`, or undefined when the path is not valid
 * (the caller answers EINVAL). Special "@" paths are returned unchanged.
 */
export function resolveXsPath(path: string, domid: DomId): string | undefined {
  if (path.length === 0 || !VALID_PATH.test(path)) return undefined;
  if (isSpecialPath(path)) return path.includes('/') ? undefined : path;
  const absolute = path.startsWith('/') ? path : `${domainPath(domid)}/${path}`;
  if (absolute.length > XS_ABS_PATH_MAX || (!path.startsWith('/') && path.length > XS_REL_PATH_MAX)) return undefined;
  if (absolute !== '/' && (absolute.endsWith('/') || absolute.includes('//') || absolute.includes('@'))) return undefined;
  return absolute;
}

/** The path a watch event names: relative again if the watch was registered relative. */
export function relativeTo(absolute: string, domid: DomId): string {
  const prefix = `${domainPath(domid)}/`;
  return absolute.startsWith(prefix) ? absolute.slice(prefix.length) : absolute;
}

export function parentPath(absolute: string): string {
  const slash = absolute.lastIndexOf('/');
  return slash <= 0 ? '/' : absolute.slice(0, slash);
}

/** True when `path` is `ancestor` or lies below it. */
export function isAtOrBelow(path: string, ancestor: string): boolean {
  if (ancestor === '/') return path.startsWith('/');
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

export function pathComponents(absolute: string): string[] {
  return absolute === '/' ? [] : absolute.slice(1).split('/');
}
