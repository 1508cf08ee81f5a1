/**
 * Counts the events delivered on an event channel. Xen marks a freshly bound interdomain port
 * pending (EVTCHNOP_bind_interdomain), so the binder may see one event nobody sent: tests take a
 * settled() count as their baseline before they notify.
 */
import type { EventChannel } from '@xenipc/core';
import { sleep, waitUntil } from './wait-until.js';

export class EventCounter {
  readonly channel: EventChannel;
  #count = 0;
  #lastEventAt = Date.now();

  constructor(channel: EventChannel) {
    this.channel = channel;
    channel.on('event', () => {
      this.#count++;
      this.#lastEventAt = Date.now();
    });
  }

  get count(): number {
    return this.#count;
  }

  /** The count once no event has arrived for quietMs. */
  async settled(quietMs = 300): Promise<number> {
    await sleep(quietMs);
    while (Date.now() - this.#lastEventAt < quietMs) await sleep(quietMs);
    return this.#count;
  }

  async waitFor(count: number, timeoutMs: number): Promise<number> {
    await waitUntil(`${count} events on port ${this.channel.localPort}`, timeoutMs, () => this.#count >= count);
    return this.#count;
  }
}
