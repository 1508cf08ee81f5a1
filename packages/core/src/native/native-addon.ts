/**
 * The shape of xenipc.node (native/*.cc). Fds and offsets are plain numbers; the TS wrappers
 * validate every value before it reaches C++, which only checks JS types.
 */

/** An error thrown by the addon for a failed syscall. */
export interface NativeErrnoError extends Error {
  errno: number;
  code: string;
  syscall: string;
}

export interface NativeMappingHandle {
  readonly buffer: ArrayBuffer;
  readonly closed: boolean;
  /** Virtual address of the first byte (for IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR). */
  readonly address: number;
  /** Detach the buffer, then munmap. Idempotent. */
  unmap(): void;
}

export interface NativeMappingHandleConstructor {
  new (fd: number, offset: number, length: number, writable: boolean): NativeMappingHandle;
  new (fds: readonly number[], offsets: readonly number[], writable: boolean): NativeMappingHandle;
}

export interface NativeAddon {
  openDevice(path: string): number;
  closeFd(fd: number): void;
  memfdCreate(name: string, size: number): number;
  socketPair(): [number, number];
  MappingHandle: NativeMappingHandleConstructor;
}
