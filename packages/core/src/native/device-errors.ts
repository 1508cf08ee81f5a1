/**
 * The sentences for failures of the Xen devices that users actually hit: no such device (not a
 * Xen domain, driver not loaded), permission, gntalloc's global page limit, a kernel without
 * gntdev dma-buf support.
 */
import type { NativeCallContext } from './native-error.js';

export type XenDeviceName = 'gntdev' | 'gntalloc' | 'evtchn';

export const DEFAULT_DEVICE_PATHS: Readonly<Record<XenDeviceName, string>> = {
  gntdev: '/dev/xen/gntdev',
  gntalloc: '/dev/xen/gntalloc',
  evtchn: '/dev/xen/evtchn',
};

/** Kernel module providing each device (modprobe name). */
const MODULE_NAMES: Readonly<Record<XenDeviceName, string>> = {
  gntdev: 'xen-gntdev',
  gntalloc: 'xen-gntalloc',
  evtchn: 'xen-evtchn',
};

export const GNTALLOC_LIMIT_PATH = '/sys/module/xen_gntalloc/parameters/limit';

export function openContext(device: XenDeviceName, path: string): NativeCallContext {
  return {
    what: `open ${path}`,
    syscall: 'open',
    path,
    explain: (code) => {
      if (code === 'ENOENT' || code === 'ENXIO' || code === 'ENODEV') {
        return `${path} not found: not a Xen domain, or the ${MODULE_NAMES[device]} module is not loaded`;
      }
      if (code === 'EACCES' || code === 'EPERM') return `permission denied opening ${path}: run as root (or give this user access to the device)`;
      return undefined;
    },
  };
}

/** Context of an ioctl on an open device, with the sentences that fit each device. */
export function ioctlContext(device: XenDeviceName, path: string, syscall: string, what: string): NativeCallContext {
  return {
    what,
    syscall,
    path,
    explain: (code) => {
      if (syscall === 'IOCTL_EVTCHN_RESTRICT_DOMID' && code === 'EACCES') {
        return `cannot ${what}: this evtchn fd is already restricted to a domain (the restriction is set once per fd)`;
      }
      if (code === 'EACCES' || code === 'EPERM') {
        const restricted = device === 'evtchn' ? ', or this fd was restricted to another domain (IOCTL_EVTCHN_RESTRICT_DOMID)' : '';
        return `cannot ${what}: permission denied by ${path} (${syscall}); run as root${restricted}`;
      }
      if (device === 'gntalloc' && code === 'ENOSPC') {
        return `cannot ${what}: gntalloc's global grant limit is reached (${syscall} ENOSPC); ` +
          `see ${GNTALLOC_LIMIT_PATH}, free other shared pages, or raise the limit`;
      }
      if (syscall.includes('DMABUF') && code === 'ENOTTY') {
        return `cannot ${what}: the kernel lacks CONFIG_XEN_GNTDEV_DMABUF (gntdev dma-buf support; ${syscall} gave ENOTTY)`;
      }
      return undefined;
    },
  };
}
