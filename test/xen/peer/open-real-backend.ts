/**
 * The real-device backend of @xenipc/core, for the Xen tests. Looked up at run time so this
 * harness loads (and reports a clear failure) while openXenBackend() does not exist yet.
 */
import * as core from '@xenipc/core';
import type { XenBackend } from '@xenipc/core';

export async function openRealBackend(): Promise<XenBackend> {
  const open = (core as unknown as Record<string, unknown>).openXenBackend;
  if (typeof open !== 'function') throw new Error('@xenipc/core does not export openXenBackend() (yet)');
  return (open as () => Promise<XenBackend>)();
}
