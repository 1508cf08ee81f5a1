/**
 * The bare ring floor of a ping-pong: the least JavaScript that can bounce a xenipc-sized frame
 * over the vchan layout, measured as the other ping-pong cells are (same message size, warm-up
 * and iteration counts, performance.now() around each round trip in the timing thread), so that
 * xenipc's spinning round trip can be divided by a floor taken in the same run.
 * bench/tools/probe-hop-floor.mjs is the stand-alone version; this one is it inside the benchmark.
 *
 * Two threads of the memcpy worker (this one times, a worker_thread echoes), two rings of
 * xenipc's default size (64 KiB, one per direction) and a control page in one memfd mapped by
 * each thread through the native addon, as on the simulated host (ring-thread.ts). Every index
 * is in the first cache line of the control page, as in libxenvchan's shared header: left
 * (timer -> echo) cons and prod, right (echo -> timer) cons and prod, the notify bytes. Each hop
 * copies the frame (4-byte length + the 64-byte message) into the ring with one set() (two when
 * it wraps), publishes the producer index, loads its own notify byte (as vchan does after each
 * index store, to see whether the peer asked for an event), and the other side, spinning on that
 * index, copies the frame out into a private buffer, publishes its consumer index and loads its
 * notify byte. No framing logic, no callbacks, no promises, no events: whatever xenipc's
 * spinning round trip costs above this is its own code.
 *
 * The floor itself moves (0.67-0.97 us p50 from one probe run to the next here): with the host
 * cores the two vCPUs land on, and with the memory each measurement gets (one process taking
 * measurements over one memfd stays on one level; with a fresh memfd each it jumps between about
 * 0.66, 0.82 and 0.96 us). Hence a fresh memfd per measurement, as each xenipc connection gets
 * fresh grant memfds on the simulated host, and the floor in the benchmark's rotation.
 */
import { controlPage, DEFAULT_RING_SIZE } from '@xenipc/channel';
import { withThreadApart } from '../control/cpu-placement.js';
import { makePayload } from '../message-pattern.js';
import type { RoundTripSamples } from '../worker/endpoint.js';
import { threadMessage, withRingThread } from './ring-thread.js';

export interface BareRingSpec {
  /** Message bytes; the frame adds a 4-byte length, as xenipc's does. */
  size: number;
  iterations: number;
  /** Round trips run first and thrown away (JIT, caches). */
  warmup: number;
  /**
   * [CPU of the echo thread, CPU of the timing thread and of the process's other threads], or
   * null: unpinned.
   */
  cpus: [number, number] | null;
}

const LABEL = 'bare ring floor';
const FRAME_HEADER = 4;
/** xenipc's default ring size, each direction. */
const RING = DEFAULT_RING_SIZE;
const CONTROL_PAGE = 4096;
const LEFT_RING = CONTROL_PAGE;
const RIGHT_RING = CONTROL_PAGE + RING;
// Int32 word indexes of libxenvchan's header (the channel's byte offsets / 4); the notify bytes
// (cli_notify, srv_notify) are byte offsets.
const LEFT_CONS = controlPage.LEFT_CONS / 4;
const LEFT_PROD = controlPage.LEFT_PROD / 4;
const RIGHT_CONS = controlPage.RIGHT_CONS / 4;
const RIGHT_PROD = controlPage.RIGHT_PROD / 4;
const { CLI_NOTIFY, SRV_NOTIFY } = controlPage;
/** How long the timing thread waits for one echo before it declares the echo thread dead. */
const STALL_LIMIT_MS = 10_000;

/**
 * The echo thread (plain JavaScript after ring-thread.ts's prelude). It reports its thread id
 * (for pinning; null where /proc/thread-self is missing), echoes `total` frames, then reports the
 * count. It spins without a stop flag: the timing thread always terminates it.
 */
const ECHO_SOURCE = `
let tid = null;
try { tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()); } catch {}
(function echo(words, bytes, ringIn, ringOut, frameBytes, total) {
  const size = ringIn.length;
  const mask = size - 1;
  const received = new Uint8Array(frameBytes);
  let cons = 0;
  let prod = 0;
  parentPort.postMessage({ tid });
  for (let i = 0; i < total; i++) {
    while (Atomics.load(words, ${LEFT_PROD}) === cons) {}
    let at = cons & mask;
    let first = size - at;
    if (first >= frameBytes) received.set(ringIn.subarray(at, at + frameBytes), 0);
    else {
      received.set(ringIn.subarray(at, size), 0);
      received.set(ringIn.subarray(0, frameBytes - first), first);
    }
    cons = (cons + frameBytes) | 0;
    Atomics.store(words, ${LEFT_CONS}, cons);
    Atomics.load(bytes, ${SRV_NOTIFY});
    at = prod & mask;
    first = size - at;
    if (first >= frameBytes) ringOut.set(received, at);
    else {
      ringOut.set(received.subarray(0, first), at);
      ringOut.set(received.subarray(first), 0);
    }
    prod = (prod + frameBytes) | 0;
    Atomics.store(words, ${RIGHT_PROD}, prod);
    Atomics.load(bytes, ${SRV_NOTIFY});
  }
  parentPort.postMessage(total);
})(
  new Int32Array(mapping.buffer, 0, ${CONTROL_PAGE / 4}),
  new Uint8Array(mapping.buffer, 0, ${CONTROL_PAGE}),
  new Uint8Array(mapping.buffer, ${LEFT_RING}, ${RING}),
  new Uint8Array(mapping.buffer, ${RIGHT_RING}, ${RING}),
  workerData.frameBytes,
  workerData.total,
);
mapping.unmap();
`;

/** The timing side: `warmup + iterations` round trips; the times of the last `iterations`, ns. */
function timeRoundTrips(buffer: ArrayBuffer, frame: Uint8Array, warmup: number, iterations: number): { rttNs: number[]; echoed: Uint8Array } {
  const words = new Int32Array(buffer, 0, CONTROL_PAGE / 4);
  const bytes = new Uint8Array(buffer, 0, CONTROL_PAGE);
  const ringOut = new Uint8Array(buffer, LEFT_RING, RING);
  const ringIn = new Uint8Array(buffer, RIGHT_RING, RING);
  const frameBytes = frame.length;
  const mask = RING - 1;
  const received = new Uint8Array(frameBytes);
  const rttNs = new Float64Array(iterations);
  let prod = 0;
  let cons = 0;
  const total = warmup + iterations;
  for (let i = 0; i < total; i++) {
    const started = performance.now();
    let at = prod & mask;
    let first = RING - at;
    if (first >= frameBytes) ringOut.set(frame, at);
    else {
      ringOut.set(frame.subarray(0, first), at);
      ringOut.set(frame.subarray(first), 0);
    }
    prod = (prod + frameBytes) | 0;
    Atomics.store(words, LEFT_PROD, prod);
    Atomics.load(bytes, CLI_NOTIFY);
    for (let spins = 1; Atomics.load(words, RIGHT_PROD) === cons; spins++) {
      if ((spins & 0xffff) === 0 && performance.now() - started > STALL_LIMIT_MS) throw new Error(`${LABEL}: no echo for ${STALL_LIMIT_MS} ms`);
    }
    at = cons & mask;
    first = RING - at;
    if (first >= frameBytes) received.set(ringIn.subarray(at, at + frameBytes), 0);
    else {
      received.set(ringIn.subarray(at, RING), 0);
      received.set(ringIn.subarray(0, frameBytes - first), first);
    }
    cons = (cons + frameBytes) | 0;
    Atomics.store(words, RIGHT_CONS, cons);
    Atomics.load(bytes, CLI_NOTIFY);
    const ended = performance.now();
    if (i >= warmup) rttNs[i - warmup] = (ended - started) * 1e6;
  }
  return { rttNs: Array.from(rttNs), echoed: received };
}

export function measureBareRing(spec: BareRingSpec): Promise<RoundTripSamples> {
  const frameBytes = FRAME_HEADER + spec.size;
  const frame = new Uint8Array(frameBytes);
  new DataView(frame.buffer).setUint32(0, spec.size, true);
  frame.set(makePayload(spec.size), FRAME_HEADER);
  const total = spec.warmup + spec.iterations;
  const thread = { label: LABEL, memfdName: 'xenipc-bench-bare-ring', mappedBytes: CONTROL_PAGE + 2 * RING, source: ECHO_SOURCE, data: { frameBytes, total } };
  return withRingThread(thread, async (buffer, echo, first) => {
    const tid = (first as { tid: number | null }).tid;
    // Listen before the round trips: the echo thread reports as soon as it is done.
    const reported = threadMessage(echo, LABEL, 'reporting');
    reported.catch(() => undefined);
    const roundTrips = async (): Promise<{ rttNs: number[]; echoed: Uint8Array }> => timeRoundTrips(buffer, frame, spec.warmup, spec.iterations);
    let result;
    if (spec.cpus === null) {
      result = await roundTrips();
    } else {
      if (tid === null || !Number.isInteger(tid)) throw new Error(`${LABEL}: cannot pin the echo thread (no thread id from /proc/thread-self)`);
      result = await withThreadApart(process.pid, spec.cpus[1], tid, spec.cpus[0], roundTrips);
    }
    const echoedCount = await reported;
    if (echoedCount !== total) throw new Error(`${LABEL}: ${total} round trips, the echo thread echoed ${String(echoedCount)}`);
    for (let i = 0; i < frameBytes; i++) {
      if (result.echoed[i] !== frame[i]) throw new Error(`${LABEL}: the echoed frame differs from the sent one at byte ${i}`);
    }
    return { rttNs: result.rttNs };
  });
}
