/**
 * Delivery of pending event-channel ports from an fd that speaks evtchn's read/unmask protocol
 * (read u32 ports, write them back to unmask), on the event loop through a native uv_poll_t.
 * Separate from the device so tests can drive it through a socket pair without Xen.
 */
import { XenError } from '../xen-error.js';
import { loadAddon } from './load-addon.js';
import type { NativePortPoller } from './native-addon.js';
import { callNative, toXenError } from './native-error.js';

/** Ports read per wake-up at most; more stay pending for the next one. */
export const PORTS_PER_READ = 256;

export interface PendingPortHandlers {
  /** One pending port (already unmasked). */
  port: (port: number) => void;
  /** A failed read/poll: EFBIG means the kernel's pending ring overflowed (events were lost). */
  error: (err: XenError) => void;
}

export class PendingPortPoller {
  readonly #native: NativePortPoller;
  readonly #ports = new Uint32Array(PORTS_PER_READ);
  readonly #path: string | undefined;
  #referenced = true;

  constructor(fd: number, handlers: PendingPortHandlers, path?: string) {
    this.#path = path;
    const { PortPoller } = loadAddon();
    const ports = this.#ports;
    this.#native = new PortPoller(fd, ports, (count, error) => {
      for (let i = 0; i < count; i++) handlers.port(ports[i] as number);
      if (error !== undefined) {
        handlers.error(toXenError(error, { what: 'receive event-channel notifications', path }) as XenError);
      }
    });
  }

  get active(): boolean {
    return this.#native.active;
  }

  /** Whether an active poller keeps the process alive. */
  get referenced(): boolean {
    return this.#referenced;
  }

  /** Starts polling; an fd can have one active poller at a time (else XenError EEXIST). */
  start(): void {
    callNative({ what: 'poll the event-channel fd', path: this.#path }, () => this.#native.start());
  }

  /** Closes the poll handle; idempotent; start() may follow. */
  stop(): void {
    this.#native.stop();
  }

  ref(): void {
    this.#referenced = true;
    this.#native.ref();
  }

  unref(): void {
    this.#referenced = false;
    this.#native.unref();
  }
}
