import { join } from 'node:path';

/**
 * Where doctor looks for /proc, /sys and /dev. Normally "/"; tests point it at a temp dir laid out
 * like a Xen domain's (`--root <dir>` or env XENIPC_HOST_ROOT).
 */
export class HostRoot {
  constructor(readonly root: string = '/') {}

  /** The host path `absolute` ("/dev/xen/gntdev") as seen under this root. */
  path(absolute: string): string {
    return this.root === '/' ? absolute : join(this.root, absolute);
  }
}
