/**
 * An open /dev/xen/* device fd, closed exactly once. The device classes extend this; every call
 * after close() fails with EBADF instead of reaching a reused fd number.
 */
import { XenError } from '../xen-error.js';
import { DEFAULT_DEVICE_PATHS, openContext, type XenDeviceName } from './device-errors.js';
import { loadAddon } from './load-addon.js';
import type { NativeAddon } from './native-addon.js';
import { callNative } from './native-error.js';

export interface OpenDeviceOptions {
  /** Device path; default /dev/xen/<device>. */
  path?: string;
}

export abstract class XenDevice {
  readonly path: string;
  protected readonly addon: NativeAddon;
  #fd: number;

  protected constructor(readonly device: XenDeviceName, options: OpenDeviceOptions = {}) {
    this.path = options.path ?? DEFAULT_DEVICE_PATHS[device];
    this.addon = loadAddon();
    const addon = this.addon;
    const path = this.path;
    this.#fd = callNative(openContext(device, path), () => addon.openDevice(path));
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** The device fd; throws EBADF once closed. */
  get fd(): number {
    if (this.#fd < 0) {
      throw new XenError({ code: 'EBADF', syscall: 'ioctl', path: this.path, message: `${this.path} was already closed` });
    }
    return this.#fd;
  }

  /** Close the fd (the kernel releases what it still holds for it). Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    this.addon.closeFd(fd);
  }
}
