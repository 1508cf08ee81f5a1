/**
 * A region of a MessageChannel's send ring reserved by `claim()` / `claimAsync()`: the message is
 * written straight into the shared ring (no copy in), then `commit()` makes it one frame and
 * publishes it, or `abandon()` gives the space back with nothing sent.
 *
 * `views` are one Uint8Array over the reserved bytes, or two when the region wraps around the
 * ring's end (the message is their concatenation). They are views of SHARED memory:
 * - valid only while the claim is open: after commit(), abandon() or the channel's end the
 *   same bytes belong to the peer or to later messages, so writing through a kept view garbles
 *   what the peer receives (the `views` getter itself throws then; views taken before cannot be
 *   revoked after commit: a mapped ring cannot be detached piecewise, so do not keep them; once
 *   the channel has closed and released the ring they are detached, length 0);
 * - write-only in spirit: the peer can rewrite them before commit, so do not read back anything
 *   you rely on (your own message is all it can spoil).
 * At most one claim is open per channel; while it is, trySend(), send() and another claim throw
 * ERR_INVALID_STATE (they would write into the reserved region or reorder the stream).
 */
import { checkInteger } from './argument-errors.js';
import { ChannelClosedError, type CloseReason } from './channel-closed-error.js';

export type SendClaimState = 'open' | 'committed' | 'abandoned' | 'closed';

/** What a claim needs from its channel (MessageChannel implements it; not public). */
export interface ClaimOwner {
  /**
   * Frame and publish `length` bytes of the open claim; if the channel has ended, call
   * endClaim(claim) and throw ChannelClosedError instead.
   */
  commitClaim(claim: SendClaim, length: number): void;
  /** Forget the open claim; nothing was written to the ring's indexes. */
  releaseClaim(claim: SendClaim): void;
  /** The channel's end, if it has ended. */
  readonly closeReason: CloseReason | undefined;
}

export function invalidState(message: string): Error & { code: 'ERR_INVALID_STATE' } {
  const err = new Error(message) as Error & { code: 'ERR_INVALID_STATE' };
  err.code = 'ERR_INVALID_STATE';
  return err;
}

/** Called by the channel when it ends with a claim open. */
let closeClaim: (claim: SendClaim) => void;

export class SendClaim {
  /** Bytes reserved (the most commit() can send). */
  readonly length: number;
  #state: SendClaimState = 'open';
  #views: readonly Uint8Array[];
  readonly #owner: ClaimOwner;

  static {
    closeClaim = (claim) => {
      if (claim.#state === 'open') claim.#state = 'closed';
      claim.#views = NO_VIEWS;
    };
  }

  /** @internal Made by MessageChannel.claim(). */
  constructor(owner: ClaimOwner, length: number, views: readonly Uint8Array[]) {
    this.#owner = owner;
    this.length = length;
    this.#views = views;
  }

  get state(): SendClaimState {
    return this.#state;
  }

  /** The reserved bytes: one view, or two when they wrap. Throws ERR_INVALID_STATE once the claim is not open. */
  get views(): readonly Uint8Array[] {
    if (this.#state !== 'open') throw invalidState(`this claim is ${this.#state}: its views are no longer the sender's to write`);
    return this.#views;
  }

  /**
   * Send the first `length` bytes written (default: all reserved) as one message and publish it
   * (at once during delivery, else by the end of this task, as trySend()). Throws
   * ERR_INVALID_STATE when not open, ChannelClosedError if the channel ended meanwhile,
   * ERR_OUT_OF_RANGE for a length outside [0, claim.length].
   */
  commit(length: number = this.length): void {
    if (this.#state !== 'open') {
      if (this.#state === 'closed') throw new ChannelClosedError(this.#owner.closeReason ?? 'closed');
      throw invalidState(`this claim is already ${this.#state}`);
    }
    const n = length === this.length ? length : checkInteger('length', length, 0, this.length);
    this.#owner.commitClaim(this, n); // throws (and ends this claim) if the channel has ended
    this.#state = 'committed';
    this.#views = NO_VIEWS;
  }

  /** Give the space back; nothing is sent. A no-op once committed, abandoned or closed (so it can sit in a `finally`). */
  abandon(): void {
    if (this.#state !== 'open') return;
    this.#state = 'abandoned';
    this.#views = NO_VIEWS;
    this.#owner.releaseClaim(this);
  }
}

export function endClaim(claim: SendClaim): void {
  closeClaim(claim);
}

const NO_VIEWS: readonly Uint8Array[] = Object.freeze([]);
