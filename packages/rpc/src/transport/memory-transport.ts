/**
 * Two connected in-process transports (for tests and for RPC between parts of one process).
 * Messages are delivered asynchronously (microtask), in order, one frame per message, with the
 * same checks as the channel transport. `crash()` ends the pair as a dying peer would.
 */
import { FrameDelivery } from './frame-delivery.js';
import { checkSize } from '../errors/argument-errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './stream-transport.js';
import type { RpcCloseReason, RpcTransport, RpcTransportSink } from './rpc-transport.js';

export class MemoryTransport implements RpcTransport {
  readonly maxMessageBytes: number;
  /** @internal */ other!: MemoryTransport;
  private sink: RpcTransportSink | undefined;
  private delivery: FrameDelivery | undefined;
  private inbox: Uint8Array[] = [];
  private inboxHead = 0;
  private scheduled = false;
  private paused = false;
  private ended = false;
  private readonly deliverBound = (): void => this.deliverInbox();

  constructor(maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {
    this.maxMessageBytes = checkSize('maxMessageBytes', maxMessageBytes, 1);
  }

  attach(sink: RpcTransportSink): void {
    if (this.sink) throw new Error('MemoryTransport is already attached');
    this.sink = sink;
    this.delivery = new FrameDelivery(this.maxMessageBytes, sink);
    this.schedule();
  }

  send(message: Uint8Array): boolean {
    if (this.ended) return false;
    // copy: the receiver must not see later changes to the sender's buffer
    this.other.receive(message.slice());
    return true;
  }

  /** Inject raw bytes as one incoming frame (tests: garbage, oversized, hand-made messages). */
  receive(frame: Uint8Array): void {
    if (this.ended) return;
    this.inbox.push(frame);
    this.schedule();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  close(): void {
    this.endBoth('closed', 'peer-closed');
  }

  /** End the pair as if this side died: the other side sees 'peer-crashed'. */
  crash(): void {
    this.endBoth('closed', 'peer-crashed');
  }

  private endBoth(local: RpcCloseReason, remote: RpcCloseReason): void {
    if (this.ended) return;
    this.end(local);
    this.other.end(remote);
  }

  private end(reason: RpcCloseReason): void {
    if (this.ended) return;
    this.ended = true;
    this.inbox = [];
    this.sink?.closed(reason);
  }

  private schedule(): void {
    if (this.scheduled || this.paused || !this.sink || this.inboxHead === this.inbox.length) return;
    this.scheduled = true;
    queueMicrotask(this.deliverBound);
  }

  private deliverInbox(): void {
    this.scheduled = false;
    const inbox = this.inbox;
    while (this.inboxHead < inbox.length && !this.paused && !this.ended) {
      const frame = inbox[this.inboxHead]!;
      inbox[this.inboxHead++] = undefined as unknown as Uint8Array;
      this.delivery!.deliver(frame);
    }
    if (this.ended) return;
    if (this.inboxHead === inbox.length || this.inboxHead > 1024) {
      this.inbox = inbox.slice(this.inboxHead);
      this.inboxHead = 0;
    }
  }
}

export function createMemoryTransportPair(maxMessageBytes?: number): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport(maxMessageBytes);
  const b = new MemoryTransport(maxMessageBytes);
  a.other = b;
  b.other = a;
  return [a, b];
}
