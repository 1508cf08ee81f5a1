/**
 * FIFO of requests waiting for a handler slot, stored as parallel arrays in a growable ring so a
 * long queue costs no object per entry. `shift()` exposes the dequeued entry through the
 * msgid/handler/method/params fields (valid until the next shift).
 */
import type { RpcHandler } from './rpc-peer.js';

export class RequestQueue {
  msgid = 0;
  handler: RpcHandler | undefined;
  method = '';
  params: unknown[] | undefined;
  private msgids: number[] = new Array<number>(16);
  private handlers: (RpcHandler | undefined)[] = new Array<RpcHandler | undefined>(16);
  private methods: string[] = new Array<string>(16);
  private paramLists: (unknown[] | undefined)[] = new Array<unknown[] | undefined>(16);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(msgid: number, handler: RpcHandler, method: string, params: unknown[]): void {
    if (this.count === this.msgids.length) this.grow();
    const at = (this.head + this.count) % this.msgids.length;
    this.msgids[at] = msgid;
    this.handlers[at] = handler;
    this.methods[at] = method;
    this.paramLists[at] = params;
    this.count++;
  }

  shift(): void {
    const at = this.head;
    this.msgid = this.msgids[at]!;
    this.handler = this.handlers[at];
    this.method = this.methods[at]!;
    this.params = this.paramLists[at];
    this.handlers[at] = undefined;
    this.paramLists[at] = undefined;
    this.head = (at + 1) % this.msgids.length;
    this.count--;
  }

  clear(): void {
    this.handlers.fill(undefined);
    this.paramLists.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const size = this.msgids.length;
    const order = (list: unknown[]): unknown[] => [...list.slice(this.head), ...list.slice(0, this.head), ...new Array(size)];
    this.msgids = order(this.msgids) as number[];
    this.handlers = order(this.handlers) as (RpcHandler | undefined)[];
    this.methods = order(this.methods) as string[];
    this.paramLists = order(this.paramLists) as (unknown[] | undefined)[];
    this.head = 0;
  }
}
