/**
 * /dev/xen/evtchn: bind, notify, unbind event-channel ports and receive their events.
 *
 * Delivery: one PendingPortPoller per device, started with the first listener. It keeps the
 * process alive only while some port has a listener, so an idle process can exit. If the
 * kernel's pending ring overflows (EFBIG), the device RESETs it and raises an event on every
 * listened port: events are hints, a spurious one is harmless, a lost one is not.
 *
 * Note (Linux drivers/xen/evtchn.c / Xen's evtchn_bind_interdomain): binding to a peer's port raises one event on
 * the new local port straight away; listeners must tolerate it (they must tolerate spurious
 * events anyway).
 */
import { checkDomid, checkPort, checkU32 } from '../backend/validate-args.js';
import type { DomainPresence, DomId, EvtchnPort } from '../backend/xen-backend.js';
import { XenError } from '../xen-error.js';
import { ioctlContext } from './device-errors.js';
import { callNative, toXenError } from './native-error.js';
import { PendingPortPoller } from './pending-port-poller.js';
import { XenDevice, type OpenDeviceOptions } from './xen-device.js';

export interface PortListener {
  event: () => void;
  /** The device can no longer deliver events (fatal read error). */
  error?: (err: XenError) => void;
}

export class EventChannelDevice extends XenDevice {
  readonly #listeners = new Map<EvtchnPort, PortListener>();
  #poller: PendingPortPoller | undefined;

  private constructor(options: OpenDeviceOptions) {
    super('evtchn', options);
  }

  /** Opens /dev/xen/evtchn (or options.path). Throws XenError ENOENT on a machine without Xen. */
  static open(options: OpenDeviceOptions = {}): EventChannelDevice {
    return new EventChannelDevice(options);
  }

  #call<T>(syscall: string, what: string, call: () => T): T {
    return callNative(ioctlContext('evtchn', this.path, syscall, what), call);
  }

  /** IOCTL_EVTCHN_BIND_VIRQ: a local port for a virtual IRQ (e.g. VIRQ_DOM_EXC = 3, dom0 only). */
  bindVirq(virq: number): EvtchnPort {
    const syscall = 'IOCTL_EVTCHN_BIND_VIRQ';
    checkU32(virq, 'virq', syscall);
    const fd = this.fd;
    return this.#call(syscall, `bind VIRQ ${virq}`, () => this.addon.evtchnBindVirq(fd, virq));
  }

  /** IOCTL_EVTCHN_BIND_INTERDOMAIN: a local port connected to `domid`'s unbound `remotePort`. */
  bindInterdomain(domid: DomId, remotePort: EvtchnPort): EvtchnPort {
    const syscall = 'IOCTL_EVTCHN_BIND_INTERDOMAIN';
    checkDomid(domid, syscall);
    checkPort(remotePort, syscall);
    const fd = this.fd;
    return this.#call(syscall, `bind to port ${remotePort} of domain ${domid}`, () => this.addon.evtchnBindInterdomain(fd, domid, remotePort));
  }

  /**
   * IOCTL_EVTCHN_BIND_INTERDOMAIN to port 0 of `domid`, which can never be bound (Xen reserves port
   * 0 in every domain): Xen looks the domain up first and answers ESRCH if there is none, EINVAL
   * if there is (xen/common/event_channel.c, evtchn_bind_interdomain). Any other answer (EACCES
   * on a restricted fd, ENOSPC when we are out of ports) proves nothing: 'unknown'.
   */
  probeDomain(domid: DomId): DomainPresence {
    const syscall = 'IOCTL_EVTCHN_BIND_INTERDOMAIN';
    checkDomid(domid, syscall);
    const fd = this.fd;
    let port: EvtchnPort;
    try {
      port = this.#call(syscall, `probe domain ${domid} (bind its reserved port 0)`, () => this.addon.evtchnBindInterdomain(fd, domid, 0));
    } catch (err) {
      if (XenError.is(err, 'ESRCH')) return 'absent';
      return XenError.is(err, 'EINVAL') ? 'present' : 'unknown';
    }
    // Not Xen's behaviour; should a hypervisor ever bind it, give the port back at once.
    this.#call('IOCTL_EVTCHN_UNBIND', `unbind port ${port}`, () => this.addon.evtchnUnbind(fd, port));
    return 'present';
  }

  /** IOCTL_EVTCHN_BIND_UNBOUND_PORT: a new local port that `domid` may bind to. */
  bindUnboundPort(domid: DomId): EvtchnPort {
    const syscall = 'IOCTL_EVTCHN_BIND_UNBOUND_PORT';
    checkDomid(domid, syscall);
    const fd = this.fd;
    return this.#call(syscall, `allocate a port for domain ${domid}`, () => this.addon.evtchnBindUnboundPort(fd, domid));
  }

  /** IOCTL_EVTCHN_UNBIND (ENOTCONN if this fd did not bind the port). Also drops its listener. */
  unbind(port: EvtchnPort): void {
    const syscall = 'IOCTL_EVTCHN_UNBIND';
    checkPort(port, syscall);
    this.unlisten(port);
    const fd = this.fd;
    this.#call(syscall, `unbind port ${port}`, () => this.addon.evtchnUnbind(fd, port));
  }

  /** IOCTL_EVTCHN_NOTIFY: send an event to the other end of `port`. */
  notify(port: EvtchnPort): void {
    // The hot path of every wake-up: no closure or context object unless it fails.
    checkPort(port, 'IOCTL_EVTCHN_NOTIFY');
    try {
      this.addon.evtchnNotify(this.fd, port);
    } catch (err) {
      throw toXenError(err, ioctlContext('evtchn', this.path, 'IOCTL_EVTCHN_NOTIFY', `notify port ${port}`));
    }
  }

  /** IOCTL_EVTCHN_RESET: clears the pending ring and its overflow state. */
  reset(): void {
    const fd = this.fd;
    this.#call('IOCTL_EVTCHN_RESET', 'reset the pending-event ring', () => this.addon.evtchnReset(fd));
  }

  /**
   * IOCTL_EVTCHN_RESTRICT_DOMID: this fd may from now on only bind ports of `domid`
   * (irreversible; once per fd, a second call gives EACCES). The kernel refuses domain 0.
   */
  restrictDomid(domid: DomId): void {
    const syscall = 'IOCTL_EVTCHN_RESTRICT_DOMID';
    checkDomid(domid, syscall);
    if (domid === 0) {
      throw new XenError({ code: 'EINVAL', syscall, path: this.path, message: 'an evtchn fd cannot be restricted to domain 0 (the kernel accepts domains 1 and up)' });
    }
    const fd = this.fd;
    this.#call(syscall, `restrict this fd to domain ${domid}`, () => this.addon.evtchnRestrictDomid(fd, domid));
  }

  /** Deliver events of `port` to `listener` (replacing any previous one). */
  listen(port: EvtchnPort, listener: PortListener): void {
    checkPort(port, 'listen');
    const poller = this.#ensurePoller();
    this.#listeners.set(port, listener);
    if (!poller.referenced) poller.ref();
  }

  unlisten(port: EvtchnPort): void {
    if (!this.#listeners.delete(port)) return;
    if (this.#listeners.size === 0) this.#poller?.unref();
  }

  /** Number of ports with a listener (tests and leak checks). */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Whether event delivery currently keeps the process alive. */
  get keepsProcessAlive(): boolean {
    return this.#poller !== undefined && this.#poller.active && this.#poller.referenced;
  }

  #ensurePoller(): PendingPortPoller {
    if (this.#poller === undefined) {
      this.#poller = new PendingPortPoller(this.fd, {
        port: (port) => this.#listeners.get(port)?.event(),
        error: (err) => this.#onPollError(err),
      }, this.path);
      this.#poller.start();
    }
    return this.#poller;
  }

  #onPollError(err: XenError): void {
    if (err.code === 'EFBIG') {
      // Overflow: events were dropped. Reset the ring and wake everyone (spurious is harmless).
      try {
        this.reset();
      } catch (resetError) {
        for (const listener of [...this.#listeners.values()]) listener.error?.(resetError as XenError);
        return;
      }
      for (const listener of [...this.#listeners.values()]) listener.event();
      return;
    }
    this.#poller?.stop();
    for (const listener of [...this.#listeners.values()]) listener.error?.(err);
  }

  /** Stops delivery and closes the fd (the kernel unbinds every port of this fd). Idempotent. */
  override close(): void {
    this.#poller?.stop();
    this.#poller = undefined;
    this.#listeners.clear();
    super.close();
  }
}
