/**
 * Diagnostic: the floor of a 64-byte ping-pong with the vchan layout, written as the least
 * JavaScript that can do it: two threads, two rings in mapped memory (memfds through the addon,
 * as on the simulated host), every index in one cache line of a control page as in
 * libxenvchan's header, a 68-byte frame copied into the ring and out of it on each hop, each
 * index store followed by the notify-byte load. No framing logic, no callbacks, no events.
 * Compare its p50 with probe-ping-pong.ts (PROBE_PIN=1) to see what the channel's own code adds.
 *   node bench/tools/probe-hop-floor.mjs [roundTrips]
 * Plain JavaScript, so that the worker thread runs without a TypeScript loader.
 */
import { createRequire } from 'node:module';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

const addon = createRequire(import.meta.url)('../../build/Release/xenipc.node');
const RING = 65536;
const FRAME = 68;
const MAPPED = RING + 4096; // slack: a frame may run past the ring's end (no wrap logic here)
// Int32 indexes of the control page (vchan: left cons/prod, right cons/prod) and notify bytes.
const LEFT_CONS = 0, LEFT_PROD = 1, RIGHT_CONS = 2, RIGHT_PROD = 3, CLI_NOTIFY = 22, SRV_NOTIFY = 23;

function map(fd, length) {
  return new addon.MappingHandle(fd, 0, length, true).buffer;
}

/** One side: the client sends first and times each round trip; the server echoes. */
function run(control, out, into, sides, roundTrips, timing) {
  const words = new Int32Array(control);
  const bytes = new Uint8Array(control);
  const ringOut = new Uint8Array(out);
  const ringIn = new Uint8Array(into);
  const message = new Uint8Array(FRAME).fill(1);
  const received = new Uint8Array(4096);
  const samples = timing ? new Float64Array(roundTrips) : undefined;
  let prod = 0;
  let cons = 0;
  const send = (frame) => {
    ringOut.set(frame, prod & (RING - 1));
    prod += FRAME;
    Atomics.store(words, sides.prodOut, prod);
    Atomics.load(bytes, sides.ownNotify);
  };
  for (let i = 0; i < roundTrips; i++) {
    const started = timing ? performance.now() : 0;
    if (timing) send(message);
    while (Atomics.load(words, sides.prodIn) === cons) {}
    const at = cons & (RING - 1);
    received.set(ringIn.subarray(at, at + FRAME), 0);
    cons += FRAME;
    Atomics.store(words, sides.consIn, cons);
    Atomics.load(bytes, sides.ownNotify);
    if (timing) samples[i] = (performance.now() - started) * 1000;
    else send(received.subarray(0, FRAME));
  }
  return samples;
}

const CLIENT = { prodOut: LEFT_PROD, prodIn: RIGHT_PROD, consIn: RIGHT_CONS, ownNotify: CLI_NOTIFY };
const SERVER = { prodOut: RIGHT_PROD, prodIn: LEFT_PROD, consIn: LEFT_CONS, ownNotify: SRV_NOTIFY };

if (isMainThread) {
  const roundTrips = Number(process.argv[2] ?? 300000);
  const fds = { control: addon.memfdCreate('control', 4096), left: addon.memfdCreate('left', MAPPED), right: addon.memfdCreate('right', MAPPED) };
  const server = new Worker(new URL(import.meta.url), { workerData: { fds, roundTrips } });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const samples = run(map(fds.control, 4096), map(fds.left, MAPPED), map(fds.right, MAPPED), CLIENT, roundTrips, true);
  const steady = Array.from(samples.subarray(roundTrips >> 1)).sort((a, b) => a - b);
  const pick = (p) => steady[Math.min(steady.length - 1, Math.floor((p / 100) * steady.length))].toFixed(3);
  console.log(`vchan-layout floor, ${roundTrips} round trips (second half): p50 ${pick(50)} us, p99 ${pick(99)} us`);
  await server.terminate();
} else {
  const { fds, roundTrips } = workerData;
  run(map(fds.control, 4096), map(fds.right, MAPPED), map(fds.left, MAPPED), SERVER, roundTrips, false);
}
