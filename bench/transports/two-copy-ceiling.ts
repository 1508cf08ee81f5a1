/**
 * The two-copy ring ceiling: the best a copy-in / copy-out ring can do here. Two threads of one
 * process share a ring: the writer (this thread) copies each message in with one
 * TypedArray.set and publishes its index with Atomics.store; the reader (a worker_thread) copies
 * everything available out with one set() per contiguous run and publishes its own index.
 * Both spin; there is no framing, no event, no wake-up. xenipc must copy a message out of the
 * shared ring before parsing it (the peer may rewrite the ring meanwhile), so two copies is the
 * least it can do, and this is the number it can at best reach.
 *
 * The writer follows xenipc's publication policy: a message goes in whole, one set() each, and
 * the index is published every quarter ring or when the ring is full. A message larger than half
 * the ring streams instead (whole, it would wait for an empty ring and the two sides would take
 * turns): the writer waits until half the ring (or the rest of the message) is free, then fills
 * all the free space a quarter ring at a time, publishing each quarter -- as xenipc's send() does
 * with a message larger than its ring. The reader drains everything available in bulk.
 *
 * The ring is the same kind of memory as xenipc's on the simulated host: a memfd mapped by each
 * thread through the native addon (a plain ArrayBuffer over the mapping), a control page then
 * the ring. Not a SharedArrayBuffer: V8 copies to and from shared buffers with relaxed atomic
 * word copies instead of memcpy, which measured ~5.7 GB/s against ~9.4 GB/s for the same 64 KiB
 * ring over mapped memory (1 MiB: both ~14.5 GB/s) -- below what xenipc itself reaches.
 *
 * One measurement = a warm-up window, then the timed window, on the same ring and threads; the
 * reader thread is started per measurement and always terminated (ring-thread.ts).
 */
import { makePayload } from '../message-pattern.js';
import { threadMessage, withRingThread } from './ring-thread.js';

export interface TwoCopySpec {
  size: number;
  /** A power of two (ring positions are free-running u32 indexes masked with size - 1). */
  ringBytes: number;
  warmupMs: number;
  durationMs: number;
}

export interface TwoCopyResult {
  messages: number;
  seconds: number;
}

// Int32 word indexes in the control page, 128 bytes apart so that no two share a cache line
// (nor an adjacent-line prefetch pair). The ring starts on the next page.
const PROD = 0;
const CONS = 32;
const STOP = 64;
const CONTROL_PAGE = 4096;
/** How long the writer waits for the reader to free space before it declares the reader dead. */
const STALL_LIMIT_MS = 10_000;

/**
 * The reader thread (plain JavaScript after ring-thread.ts's prelude, which maps the memfd as
 * `mapping`). It copies each contiguous run of available bytes into a private buffer at offset 0,
 * as xenipc's receive path does when its buffer is empty, until told to stop, then reports how
 * many bytes it consumed.
 */
const READER_SOURCE = `
(function read(control, ring) {
  const size = ring.length;
  const out = new Uint8Array(size);
  let cons = 0;
  let pos = 0;
  let consumed = 0;
  parentPort.postMessage('ready');
  for (;;) {
    const prod = Atomics.load(control, ${PROD});
    if (prod === cons) {
      if (Atomics.load(control, ${STOP}) !== 0) break;
      continue;
    }
    const n = Math.min((prod - cons) >>> 0, size - pos);
    out.set(ring.subarray(pos, pos + n), 0);
    pos = (pos + n) & (size - 1);
    cons = (cons + n) | 0;
    consumed += n;
    Atomics.store(control, ${CONS}, cons);
  }
  parentPort.postMessage(consumed);
})(new Int32Array(mapping.buffer, 0, ${CONTROL_PAGE / 4}), new Uint8Array(mapping.buffer, ${CONTROL_PAGE}, workerData.ringBytes));
mapping.unmap();
`;

const LABEL = 'two-copy ceiling';

export async function measureTwoCopy(spec: TwoCopySpec): Promise<TwoCopyResult> {
  const { size, ringBytes } = spec;
  if (ringBytes < 16 || (ringBytes & (ringBytes - 1)) !== 0) throw new RangeError(`ring size ${ringBytes} is not a power of two >= 16`);
  const thread = {
    label: LABEL,
    memfdName: 'xenipc-bench-two-copy',
    mappedBytes: CONTROL_PAGE + ringBytes,
    source: READER_SOURCE,
    data: { ringBytes },
    // The reader spins until told to stop (terminate() would stop it too).
    beforeTerminate: (buffer: ArrayBuffer) => Atomics.store(new Int32Array(buffer, 0, CONTROL_PAGE / 4), STOP, 1),
  };
  return withRingThread(thread, async (buffer, reader, first) => {
    if (first !== 'ready') throw new Error(`${LABEL}: unexpected first message from the reader thread`);
    const control = new Int32Array(buffer, 0, CONTROL_PAGE / 4);
    const ring = new Uint8Array(buffer, CONTROL_PAGE, ringBytes);
    const source = new Uint8Array(makePayload(size));
    const mask = ringBytes - 1;
    const quarter = Math.max(1, ringBytes >>> 2);
    const half = ringBytes >>> 1;
    // Messages up to half the ring go in whole; bigger ones stream (see the header comment).
    const streamed = size > half;
    // Read the clock about every 256 KiB (every 64 messages at most).
    const batch = Math.max(1, Math.min(64, Math.floor(262144 / size)));

    let prod = 0; // free-running u32 index
    let pos = 0; // prod & mask
    let free = ringBytes; // space known free (refreshed from the reader's index when short)
    let unpublished = 0;

    const publish = (): void => {
      Atomics.store(control, PROD, prod | 0);
      unpublished = 0;
    };
    const waitForSpace = (need: number): void => {
      if (unpublished > 0) publish();
      const giveUpAt = performance.now() + STALL_LIMIT_MS;
      for (let spins = 0; ; spins++) {
        free = ringBytes - ((prod - Atomics.load(control, CONS)) >>> 0);
        if (free >= need) return;
        if ((spins & 1023) === 1023 && performance.now() > giveUpAt) throw new Error(`two-copy reader freed no space for ${STALL_LIMIT_MS} ms`);
      }
    };
    /** Copies `n` bytes of the message from `offset` in at the write position (wrapping). */
    const copyIn = (offset: number, n: number): void => {
      const first = Math.min(n, ringBytes - pos);
      if (n === size && first === n) {
        ring.set(source, pos);
      } else {
        ring.set(source.subarray(offset, offset + first), pos);
        if (first < n) ring.set(source.subarray(offset + first, offset + n), 0);
      }
      pos = (pos + n) & mask;
      prod = (prod + n) >>> 0;
      free -= n;
      unpublished += n;
      if (unpublished >= quarter) publish();
    };
    const putMessage = (): void => {
      if (!streamed) {
        if (free < size) waitForSpace(size);
        copyIn(0, size);
        return;
      }
      let offset = 0;
      while (offset < size) {
        const want = Math.min(size - offset, half);
        if (free < want) waitForSpace(want);
        const end = offset + Math.min(free, size - offset);
        while (offset < end) {
          const step = Math.min(end - offset, quarter);
          copyIn(offset, step);
          offset += step;
        }
      }
    };
    /** Writes for `ms`, then waits until the reader has copied everything out. */
    const window = (ms: number): TwoCopyResult => {
      const started = performance.now();
      const deadline = started + ms;
      let messages = 0;
      for (;;) {
        for (let i = 0; i < batch; i++) putMessage();
        messages += batch;
        if (performance.now() >= deadline) break;
      }
      if (unpublished > 0) publish();
      const giveUpAt = performance.now() + STALL_LIMIT_MS;
      for (let spins = 0; Atomics.load(control, CONS) !== (prod | 0); spins++) {
        if ((spins & 1023) === 1023 && performance.now() > giveUpAt) throw new Error(`two-copy reader did not drain the ring in ${STALL_LIMIT_MS} ms`);
      }
      return { messages, seconds: (performance.now() - started) / 1000 };
    };

    const warmup = window(spec.warmupMs);
    const timed = window(spec.durationMs);
    const consumed = threadMessage(reader, LABEL, 'reporting');
    Atomics.store(control, STOP, 1);
    const bytes = await consumed;
    const expected = (warmup.messages + timed.messages) * size;
    if (bytes !== expected) throw new Error(`${LABEL}: wrote ${expected} bytes, the reader consumed ${String(bytes)}`);
    return timed;
  });
}
