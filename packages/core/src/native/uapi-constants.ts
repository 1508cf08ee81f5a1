/**
 * Flag and status values of the Xen device interfaces, from the Linux uapi headers
 * (xen/gntdev.h, xen/gntalloc.h) and Xen's public grant_table.h (GNTCOPY_*, GNTST_*).
 */

/** SET_UNMAP_NOTIFY actions. */
export const UNMAP_NOTIFY_CLEAR_BYTE = 0x1;
export const UNMAP_NOTIFY_SEND_EVENT = 0x2;

/** ALLOC_GREF flag: the peer may write the pages. */
export const GNTALLOC_FLAG_WRITABLE = 1;

/** DMABUF_EXP_FROM_REFS flags. */
export const GNTDEV_DMA_FLAG_WC = 1 << 0;
export const GNTDEV_DMA_FLAG_COHERENT = 1 << 1;

/** GRANT_COPY segment flags: which side names a grant (otherwise a local buffer). */
export const GNTCOPY_SOURCE_GREF = 1;
export const GNTCOPY_DEST_GREF = 2;

/** GRANT_COPY per-segment status (GNTST_*), by value. */
export const GRANT_STATUS_NAMES: Readonly<Record<number, string>> = {
  0: 'GNTST_okay',
  [-1]: 'GNTST_general_error',
  [-2]: 'GNTST_bad_domain',
  [-3]: 'GNTST_bad_gntref',
  [-4]: 'GNTST_bad_handle',
  [-5]: 'GNTST_bad_virt_addr',
  [-6]: 'GNTST_bad_dev_addr',
  [-7]: 'GNTST_no_device_space',
  [-8]: 'GNTST_permission_denied',
  [-9]: 'GNTST_bad_page',
  [-10]: 'GNTST_bad_copy_arg',
  [-11]: 'GNTST_address_too_big',
  [-12]: 'GNTST_eagain',
  [-13]: 'GNTST_no_space',
};
export const GNTST_OKAY = 0;
/** The grant's domain does not exist or is dying (a grant copy from a destroyed domain). */
export const GNTST_BAD_DOMAIN = -2;
