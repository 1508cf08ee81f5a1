/**
 * The shape of xenipc.node (native/*.cc). Fds and offsets are plain numbers; the TS wrappers
 * validate every value before it reaches C++, which only checks JS types (and keeps pointers it
 * hands to the kernel inside their JS buffers).
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

/** A uv_poll_t on an evtchn fd: reads pending ports into `ports`, unmasks them, calls back. */
export interface NativePortPoller {
  readonly active: boolean;
  start(): void;
  /** Closes the uv handle. Idempotent; start() may be called again afterwards. */
  stop(): void;
  /** Keep the event loop alive while active (default). */
  ref(): void;
  /** Let the process exit even while active. */
  unref(): void;
}

export interface NativePortPollerConstructor {
  /** datagramPairs: read 8-byte {domid, port} datagrams (event sockets) instead of evtchn's protocol. */
  new (fd: number, ports: Uint32Array, onPorts: (count: number, error: NativeErrnoError | undefined) => void, datagramPairs?: boolean): NativePortPoller;
}

/** One IOCTL_GNTDEV_GRANT_COPY segment as the addon packs it. */
export interface NativeGrantCopySegment {
  flags: number;
  len: number;
  sourceRef?: number;
  sourceOffset?: number;
  sourceDomid?: number;
  sourceBuffer?: ArrayBufferView;
  sourceByteOffset?: number;
  destRef?: number;
  destOffset?: number;
  destDomid?: number;
  destBuffer?: ArrayBufferView;
  destByteOffset?: number;
}

export interface NativeUapi {
  ioctls: Record<string, number>;
  sizes: Record<string, number>;
  offsets: Record<string, number>;
  flags: Record<string, number>;
}

export interface NativeAddon {
  openDevice(path: string): number;
  closeFd(fd: number): void;
  memfdCreate(name: string, size: number): number;
  /** Non-blocking Unix stream sockets, or datagram sockets (tests stand them in for device fds). */
  socketPair(datagram?: boolean): [number, number];
  /** A non-blocking Unix datagram socket bound to `name` (leading NUL: abstract). */
  eventSocketBind(name: string): number;
  /** A non-blocking Unix datagram socket connected to `name`. */
  eventSocketConnect(name: string): number;
  /** One {from, port} datagram; returns 0 or the errno of a send that did not go (never throws for it). */
  eventSocketSend(fd: number, from: number, port: number): number;
  /** sched_yield(): let another runnable thread have this CPU (see cpu-yield.ts). */
  yieldCpu(): void;
  MappingHandle: NativeMappingHandleConstructor;
  PortPoller: NativePortPollerConstructor;
  uapi: NativeUapi;

  gntdevMapGrantRef(fd: number, domids: Uint32Array, refs: Uint32Array): number;
  gntdevUnmapGrantRef(fd: number, index: number, count: number): void;
  gntdevGetOffsetForVaddr(fd: number, vaddr: number): { offset: number; count: number };
  gntdevSetMaxGrants(fd: number, count: number): void;
  gntdevSetUnmapNotify(fd: number, index: number, action: number, port: number): void;
  gntdevGrantCopy(fd: number, segments: readonly NativeGrantCopySegment[]): Int16Array;
  gntdevDmabufExportFromRefs(fd: number, flags: number, domid: number, refs: Uint32Array): number;
  gntdevDmabufExportWaitReleased(fd: number, dmabufFd: number, timeoutMs: number): Promise<void>;
  gntdevDmabufImportToRefs(fd: number, dmabufFd: number, count: number, domid: number): Uint32Array;
  gntdevDmabufImportRelease(fd: number, dmabufFd: number): void;

  gntallocAllocGref(fd: number, domid: number, flags: number, count: number): { index: number; refs: Uint32Array };
  gntallocDeallocGref(fd: number, index: number, count: number): void;
  gntallocSetUnmapNotify(fd: number, index: number, action: number, port: number): void;

  evtchnBindVirq(fd: number, virq: number): number;
  evtchnBindInterdomain(fd: number, remoteDomain: number, remotePort: number): number;
  evtchnBindUnboundPort(fd: number, remoteDomain: number): number;
  evtchnUnbind(fd: number, port: number): void;
  evtchnNotify(fd: number, port: number): void;
  evtchnReset(fd: number): void;
  evtchnRestrictDomid(fd: number, domid: number): void;
}
