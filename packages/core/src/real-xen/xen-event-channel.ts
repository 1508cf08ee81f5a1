/**
 * One event-channel port bound through /dev/xen/evtchn, as the backend's EventChannel.
 * Delivery comes from the device's poller; the first event after bindInterdomain may be
 * spurious (Xen raises the new local port on bind), which EventChannel users tolerate.
 */
import { EventEmitter } from 'eventemitter3';
import type { DomId, EventChannel, EventChannelEvents, EventChannelStatus, EvtchnPort } from '../backend/xen-backend.js';
import type { EventChannelDevice } from '../native/event-channel-device.js';
import { XenError } from '../xen-error.js';

export class XenEventChannel extends EventEmitter<EventChannelEvents> implements EventChannel {
  #closed = false;

  constructor(
    private readonly device: EventChannelDevice,
    readonly localPort: EvtchnPort,
    readonly remoteDomain: DomId,
    private readonly onClose: (channel: XenEventChannel) => void,
  ) {
    super();
    device.listen(localPort, {
      event: () => {
        if (!this.#closed) this.emit('event');
      },
      error: (err) => this.emit('error', err),
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  notify(): void {
    if (this.#closed) throw new XenError({ code: 'EBADF', syscall: 'IOCTL_EVTCHN_NOTIFY', message: `event channel port ${this.localPort} was already closed` });
    this.device.notify(this.localPort);
  }

  /** Linux's evtchn device cannot ask Xen for a port's status. */
  status(): Promise<EventChannelStatus> {
    return Promise.resolve(this.#closed ? 'closed' : 'unknown');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose(this);
    if (this.device.closed) return;
    try {
      this.device.unbind(this.localPort);
    } catch (err) {
      // ENOTCONN: the port is already gone (e.g. the device was reset); nothing left to release.
      if (!XenError.is(err, 'ENOTCONN')) throw err;
    }
  }
}
