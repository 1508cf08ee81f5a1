/**
 * xenstore permission strings as on the wire and in `xenstore-ls -p`: one letter (n, r, w, b)
 * followed by a decimal domid, e.g. "r5". The first entry names the owner and the access of
 * every domain not listed (docs/misc/xenstore.txt).
 */
import { DOMID_MAX, type XsPermission, type XsPermissionKind } from '../backend/xen-backend.js';

const LETTER_BY_KIND: Readonly<Record<XsPermissionKind, string>> = { none: 'n', read: 'r', write: 'w', both: 'b' };
const KIND_BY_LETTER: Readonly<Record<string, XsPermissionKind>> = { n: 'none', r: 'read', w: 'write', b: 'both' };

export function formatXsPermission(permission: XsPermission): string {
  return `${LETTER_BY_KIND[permission.perm]}${permission.domid}`;
}

/** Undefined for anything that is not exactly letter + decimal domid in range. */
export function parseXsPermission(text: string): XsPermission | undefined {
  const kind = KIND_BY_LETTER[text.charAt(0)];
  const digits = text.slice(1);
  if (kind === undefined || !/^[0-9]{1,5}$/.test(digits)) return undefined;
  const domid = Number(digits);
  if (domid > DOMID_MAX) return undefined;
  return { domid, perm: kind };
}

export function allowsRead(kind: XsPermissionKind): boolean {
  return kind === 'read' || kind === 'both';
}

export function allowsWrite(kind: XsPermissionKind): boolean {
  return kind === 'write' || kind === 'both';
}
