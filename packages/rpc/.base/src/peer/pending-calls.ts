/**
 * Calls in flight, found by msgid: an open table indexed by `msgid & mask`, no hashing and no
 * per-entry allocation beyond the call itself (a Map cost ~4 hash operations per call).
 *
 * We choose the msgids, so collisions are avoided at allocation instead of resolved at lookup:
 * the allocator skips ids whose slot is taken (see RpcPeer.allocateMsgid) and the table doubles
 * when half full. A lookup is one slot read and an id compare, whatever id the peer sends.
 * A call that never answers therefore costs one slot, not a table as wide as the id span.
 */

/** Bookkeeping for one call in flight. */
export interface PendingCall {
  msgid: number;
  method: string;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  /** Sweep tick at which the call expires when it uses the default timeout, else 0. */
  deadline: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const INITIAL_CAPACITY = 1024;
/** Times a grown table must become empty, without growing again, before it shrinks. */
const EMPTIES_BEFORE_SHRINK = 64;

export class PendingCalls {
  size = 0;
  private slots: (PendingCall | undefined)[] = new Array<PendingCall | undefined>(INITIAL_CAPACITY).fill(undefined);
  private mask = INITIAL_CAPACITY - 1;
  /** Times the table became empty since it last grew (see remove()). */
  private emptiesSinceGrowth = 0;

  /** Whether `msgid`'s slot is taken (by it or by another id): such an id must not be allocated. */
  slotTaken(msgid: number): boolean {
    return this.slots[msgid & this.mask] !== undefined;
  }

  /** Make room before allocating an id: keeps at least half the slots free. */
  reserve(): void {
    if (this.size >= (this.slots.length >>> 1)) {
      this.resize(this.slots.length * 2);
      this.emptiesSinceGrowth = 0;
    }
  }

  /** Insert a call whose msgid was allocated with a free slot (after reserve()). */
  add(call: PendingCall): void {
    this.slots[call.msgid & this.mask] = call;
    this.size++;
  }

  get(msgid: number): PendingCall | undefined {
    const call = this.slots[msgid & this.mask];
    return call !== undefined && call.msgid === msgid ? call : undefined;
  }

  /** Remove and return the call with this msgid, if it is pending. */
  remove(msgid: number): PendingCall | undefined {
    const index = msgid & this.mask;
    const call = this.slots[index];
    if (call === undefined || call.msgid !== msgid) return undefined;
    this.slots[index] = undefined;
    if (--this.size === 0 && this.slots.length > INITIAL_CAPACITY && ++this.emptiesSinceGrowth > EMPTIES_BEFORE_SHRINK) {
      // bursts grew the table and stopped: give the memory back (not after each burst, or every
      // burst would regrow it step by step, which cost more than the calls' own bookkeeping)
      this.slots = new Array<PendingCall | undefined>(INITIAL_CAPACITY).fill(undefined);
      this.mask = INITIAL_CAPACITY - 1;
      this.emptiesSinceGrowth = 0;
    }
    return call;
  }

  /** Every pending call (a snapshot, in slot order). */
  all(): PendingCall[] {
    const calls: PendingCall[] = [];
    for (const call of this.slots) if (call !== undefined) calls.push(call);
    return calls;
  }

  private resize(capacity: number): void {
    const old = this.slots;
    const slots = new Array<PendingCall | undefined>(capacity).fill(undefined);
    const mask = capacity - 1;
    // distinct ids that did not share a slot under the old mask cannot share one under a wider mask
    for (const call of old) if (call !== undefined) slots[call.msgid & mask] = call;
    this.slots = slots;
    this.mask = mask;
  }
}
