/**
 * Where received messages live. A fresh Uint8Array of more than 64 bytes gets its own off-heap
 * backing store, which costs V8 about a microsecond; a view into a shared slab costs a fraction of
 * that (measured here: 1 KiB messages ~1.1 us -> ~0.2 us). So messages up to SLAB_MAX_MESSAGE
 * bytes are views into 256 KiB slabs, as Node's pooled Buffers are (a retained message keeps its
 * slab alive: at most 256 KiB per slab; `message.buffer` is the slab, so use byteOffset/length).
 * Tiny messages stay on the V8 heap (cheapest), big ones get their own buffer (not zeroed first:
 * the caller fills every byte before delivery).
 */
const SLAB_BYTES = 256 * 1024;
const SLAB_MAX_MESSAGE = 4096;
/** Up to this size a message is a plain V8-heap Uint8Array (cheapest to allocate). */
export const ON_HEAP_MAX = 64;

/**
 * A buffer of n bytes that are NOT zeroed first (Node's allocUnsafeSlow: no pool, no memset), as a
 * plain Uint8Array. Only for buffers every byte of which is written before anyone sees them:
 * zeroing 64 KiB costs about as much as copying it in.
 */
export function uninitializedBytes(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

export class MessageSlab {
  private slab = new ArrayBuffer(SLAB_BYTES);
  private offset = 0;

  allocate(n: number): Uint8Array {
    if (n <= ON_HEAP_MAX) return new Uint8Array(n);
    if (n > SLAB_MAX_MESSAGE) return uninitializedBytes(n);
    if (this.offset + n > SLAB_BYTES) {
      this.slab = new ArrayBuffer(SLAB_BYTES);
      this.offset = 0;
    }
    const out = new Uint8Array(this.slab, this.offset, n);
    this.offset += (n + 7) & ~7; // keep views 8-byte aligned for DataView-heavy consumers
    return out;
  }
}
