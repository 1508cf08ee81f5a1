/**
 * Mapping the host's memfds into a domain process. The host passes (pid, fd); we open
 * /proc/<pid>/fd/<fd> (a new open file description of the same memfd), mmap it and close the fd
 * at once: the mapping keeps the memory alive, and nothing is left open or named anywhere.
 */
import { closeSync, openSync } from 'node:fs';
import { mapFile, mapFilePages, type MemoryMapping, XenError } from '@xenipc/core';
import { sharedFilePath, type SharedFile } from './host-protocol.js';

function openShared(file: SharedFile, writable: boolean): number {
  const path = sharedFilePath(file);
  try {
    return openSync(path, writable ? 'r+' : 'r');
  } catch (cause) {
    throw new XenError({
      code: (cause as NodeJS.ErrnoException).code ?? 'EIO',
      syscall: 'open',
      path,
      message: `cannot open the simulated host's shared memory ${path} (is the host process gone?)`,
      cause,
    });
  }
}

export function mapSharedFile(file: SharedFile, length: number, writable: boolean): MemoryMapping {
  const fd = openShared(file, writable);
  try {
    return mapFile(fd, 0, length, { writable });
  } finally {
    closeSync(fd);
  }
}

/** Pages of possibly different memfds, mapped contiguously in the given order. */
export function mapSharedPages(pages: ReadonlyArray<SharedFile & { offset: number }>, writable: boolean): MemoryMapping {
  const fds = new Map<string, number>();
  try {
    const filePages = pages.map((page) => {
      const key = `${page.pid}/${page.fd}`;
      let fd = fds.get(key);
      if (fd === undefined) {
        fd = openShared(page, writable);
        fds.set(key, fd);
      }
      return { fd, offset: page.offset };
    });
    return mapFilePages(filePages, { writable });
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
}
