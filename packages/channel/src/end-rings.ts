/**
 * The two ring sides of one vchan end, as libxenvchan wires them: the client writes LEFT and
 * reads RIGHT, the server the opposite; each end clears bits in its own notify byte and sets
 * them in the peer's.
 */
import type { EventChannel } from '@xenipc/core';
import { CLI_NOTIFY, LEFT_CONS, LEFT_PROD, RIGHT_CONS, RIGHT_PROD, SRV_NOTIFY, type ControlViews } from './control-page.js';
import { Notifier } from './notifier.js';
import { RingConsumer, RingProducer } from './ring.js';

export interface EndRings {
  notifier: Notifier;
  consumer: RingConsumer;
  producer: RingProducer;
}

export function endRings(role: 'server' | 'client', views: ControlViews, leftData: Uint8Array, rightData: Uint8Array, evtchn: EventChannel): EndRings {
  if (role === 'client') {
    const notifier = new Notifier(views.bytes, CLI_NOTIFY, SRV_NOTIFY, evtchn);
    return {
      notifier,
      producer: new RingProducer(views.words, LEFT_PROD / 4, LEFT_CONS / 4, leftData, notifier),
      consumer: new RingConsumer(views.words, RIGHT_CONS / 4, RIGHT_PROD / 4, rightData, notifier),
    };
  }
  const notifier = new Notifier(views.bytes, SRV_NOTIFY, CLI_NOTIFY, evtchn);
  return {
    notifier,
    producer: new RingProducer(views.words, RIGHT_PROD / 4, RIGHT_CONS / 4, rightData, notifier),
    consumer: new RingConsumer(views.words, LEFT_CONS / 4, LEFT_PROD / 4, leftData, notifier),
  };
}
