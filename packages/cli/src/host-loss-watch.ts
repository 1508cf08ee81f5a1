/**
 * Was it the host that went away? When the simulated host (or, on Xen, the xenstore
 * connection) dies, channels end with reasons that blame the peer ('domain-gone',
 * 'peer-crashed'); @xenipc/channel is getting a reason of its own for it ('host-gone').
 * Until every path reports it, the command asks its own xenstore connection: closed under us,
 * or failing with a connection error, means the host is gone.
 */
import type { XenBackend } from '@xenipc/core';

/** errno names of a dead connection to the host / xenstored. */
const CONNECTION_LOST = new Set(['ENOTCONN', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ECONNABORTED']);
/** Longest we wait for the probe's answer; a live xenstore answers in microseconds. */
const PROBE_TIMEOUT_MS = 2000;

export class HostLossWatch {
  private lost = false;
  private readonly onClose = (): void => {
    this.lost = true;
  };

  constructor(private readonly backend: XenBackend) {
    backend.xenstore.on('close', this.onClose);
  }

  /** True if the xenstore connection closed under us or a request on it fails for lack of a connection. */
  async hostGone(): Promise<boolean> {
    if (this.lost) return true;
    let timer: NodeJS.Timeout | undefined;
    const probe = this.backend.xenstore.read(`/local/domain/${this.backend.domid}`).then(
      () => false,
      (err: unknown) => CONNECTION_LOST.has(String((err as { code?: unknown }).code)),
    );
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
      timer.unref();
    });
    try {
      return this.lost || (await Promise.race([probe, timeout])) || this.lost;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Before closing the backend ourselves. */
  dispose(): void {
    this.backend.xenstore.off('close', this.onClose);
  }
}
