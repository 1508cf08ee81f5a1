/**
 * The libxenvchan shared control page (xen/include/public/io/libxenvchan.h), byte for byte:
 *
 *   0  u32 left.cons    4  u32 left.prod     (LEFT ring: client -> server)
 *   8  u32 right.cons  12  u32 right.prod    (RIGHT ring: server -> client)
 *  16  u16 left_order  18  u16 right_order
 *  20  u8 cli_live     21  u8 srv_live       (0 gone, 1 connected, 2 client not yet connected)
 *  22  u8 cli_notify   23  u8 srv_notify     (bits the client / server must act on)
 *  24  u32 grants[]    (external ring pages: LEFT's first, then RIGHT's)
 *
 * All fields are native-endian (little-endian on every platform Xen runs on).
 */
import { PAGE_SIZE } from '@xenipc/core';
import { invalidArgType, outOfRange } from './argument-errors.js';

export const LEFT_CONS = 0;
export const LEFT_PROD = 4;
export const RIGHT_CONS = 8;
export const RIGHT_PROD = 12;
export const LEFT_ORDER = 16;
export const RIGHT_ORDER = 18;
export const CLI_LIVE = 20;
export const SRV_LIVE = 21;
export const CLI_NOTIFY = 22;
export const SRV_NOTIFY = 23;
export const GRANTS = 24;
export const CONTROL_HEADER_BYTES = 24;

/** Notify bits (libxenvchan VCHAN_NOTIFY_*): "tell me when data is written / consumed". */
export const NOTIFY_WRITE = 1;
export const NOTIFY_READ = 2;

/**
 * xenipc's extension, in the high bits of each side's OWN notify byte (server: srv_notify,
 * client: cli_notify). libxenvchan only ever ORs its request bits into the peer's byte and
 * clears single bits of its own, so these bits are invisible to it and survive its updates.
 * - SPEAKS_GOODBYE: "I set SAID_GOODBYE before I close on purpose".
 * - SAID_GOODBYE: "I am closing on purpose".
 * A peer whose live byte went to 0 with SPEAKS_GOODBYE but without SAID_GOODBYE was cleared by
 * the kernel's unmap-notify: its process died. A peer without SPEAKS_GOODBYE (plain
 * libxenvchan) cannot tell us, and its departure is reported as a clean close.
 */
export const FLAG_SPEAKS_GOODBYE = 0x40;
export const FLAG_SAID_GOODBYE = 0x80;

export const LIVE_GONE = 0;
export const LIVE_CONNECTED = 1;
export const LIVE_WAITING = 2;

/** Where in-page rings live. */
export const SMALL_RING_OFFSET = 1024;
export const LARGE_RING_OFFSET = 2048;

export const MIN_ORDER = 10;
export const MAX_ORDER = 20;
/** Largest ring: 1 MiB (256 pages), so both grant lists fit in the control page. */
export const MAX_RING_BYTES = 1 << MAX_ORDER;
const PAGE_SHIFT = 12;

/** Where one ring's bytes are: inside the control page, or on its own granted pages. */
export interface RingPlacement {
  readonly order: number;
  readonly bytes: number;
  /** Offset inside the control page (order 10 or 11), or undefined for external pages. */
  readonly inPageOffset: number | undefined;
  /** Number of separately granted pages (0 when in-page). */
  readonly pages: number;
}

export function placementForOrder(order: number): RingPlacement {
  const bytes = 2 ** order;
  if (order === 10) return { order, bytes, inPageOffset: SMALL_RING_OFFSET, pages: 0 };
  if (order === 11) return { order, bytes, inPageOffset: LARGE_RING_OFFSET, pages: 0 };
  return { order, bytes, inPageOffset: undefined, pages: 2 ** (order - PAGE_SHIFT) };
}

function orderFor(bytes: number, min: number): number {
  let order = min;
  while (2 ** order < bytes) order += 1;
  return order;
}

/**
 * The server's choice of ring orders for requested minimum sizes, as libxenvchan_server_init
 * makes it: both rings in the control page when they fit (1 KiB + 2 KiB), otherwise a ring of at
 * most 2 KiB at offset 2048 and the other on its own pages. Sizes round up to a power of two.
 */
export function planRings(leftMin: number, rightMin: number): { left: RingPlacement; right: RingPlacement } {
  for (const [name, v] of [['readSize', leftMin], ['writeSize', rightMin]] as const) {
    if (typeof v !== 'number') throw invalidArgType(name, 'of type number', v);
    if (!Number.isInteger(v) || v < 0 || v > MAX_RING_BYTES) throw outOfRange(name, `an integer from 0 to ${MAX_RING_BYTES} (1 MiB)`, v);
  }
  let left: number;
  let right: number;
  if (leftMin <= 1024 && rightMin <= 2048) [left, right] = [10, 11];
  else if (leftMin <= 2048 && rightMin <= 1024) [left, right] = [11, 10];
  else if (leftMin <= 2048) [left, right] = [11, orderFor(rightMin, 12)];
  else if (rightMin <= 2048) [left, right] = [orderFor(leftMin, 12), 11];
  else [left, right] = [orderFor(leftMin, 12), orderFor(rightMin, 12)];
  return { left: placementForOrder(left), right: placementForOrder(right) };
}

/**
 * A client's check of the orders a (possibly hostile) server wrote, as libxenvchan's
 * init_gnt_cli: each in [10, 20], and not both the same in-page slot. Returns a reason, or
 * undefined when acceptable.
 */
export function rejectOrders(leftOrder: number, rightOrder: number): string | undefined {
  for (const o of [leftOrder, rightOrder]) {
    if (!Number.isInteger(o) || o < MIN_ORDER || o > MAX_ORDER) return `ring order ${o} is outside [${MIN_ORDER}, ${MAX_ORDER}]`;
  }
  if (leftOrder === rightOrder && leftOrder < 12) return `both rings claim the same in-page slot (order ${leftOrder})`;
  return undefined;
}

/** Byte offset just past the grant list for these placements. */
export function grantListEnd(left: RingPlacement, right: RingPlacement): number {
  return GRANTS + 4 * (left.pages + right.pages);
}

/** Typed views over a control page, made once at setup. */
export interface ControlViews {
  /** Whole-word view: indexes 0..3 are left.cons, left.prod, right.cons, right.prod. */
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  readonly view: DataView;
}

export function controlViews(buffer: ArrayBuffer): ControlViews {
  if (buffer.byteLength < PAGE_SIZE) throw new RangeError(`a vchan control page needs ${PAGE_SIZE} bytes, got ${buffer.byteLength}`);
  return { words: new Int32Array(buffer, 0, 4), bytes: new Uint8Array(buffer, 0, PAGE_SIZE), view: new DataView(buffer, 0, PAGE_SIZE) };
}
