/**
 * Our own domain id on real Xen: 0 in the control domain (/proc/xen/capabilities says
 * "control_d"), otherwise the "domid" key of our xenstore home (relative path: xenstored
 * resolves it under /local/domain/<caller>/).
 */
import { readFile } from 'node:fs/promises';
import { DOMID_MAX, type DomId, type XenStore } from '../backend/xen-backend.js';
import { XenError } from '../xen-error.js';

export const XEN_CAPABILITIES_PATH = '/proc/xen/capabilities';

export async function isControlDomain(capabilitiesPath = XEN_CAPABILITIES_PATH): Promise<boolean> {
  try {
    return (await readFile(capabilitiesPath, 'utf8')).includes('control_d');
  } catch {
    return false; // no xenfs mounted, or not Xen: not dom0 as far as we can tell
  }
}

export async function readOwnDomid(xenstore: XenStore, capabilitiesPath = XEN_CAPABILITIES_PATH): Promise<DomId> {
  if (await isControlDomain(capabilitiesPath)) return 0;
  const text = await xenstore.read('domid');
  const domid = Number(text);
  if (!/^\d+$/.test(text) || domid > DOMID_MAX) {
    throw new XenError({ code: 'EINVAL', syscall: 'xs_read', path: 'domid', message: `xenstore "domid" holds ${JSON.stringify(text)}, not a domain id` });
  }
  return domid;
}
