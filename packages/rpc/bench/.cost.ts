import { WireCodec } from '../src/wire/msgpack-codec.ts';
const MB = Number(process.env.BYTES ?? 16 * 1024 * 1024 - 16);
function msg(fill: (b: Uint8Array, at: number) => number, unit: number): Uint8Array {
  const count = Math.floor((MB - 10) / unit);
  const b = new Uint8Array(count * unit + 5);
  b[0] = 0xdd; b[1] = count >>> 24; b[2] = (count >> 16) & 0xff; b[3] = (count >> 8) & 0xff; b[4] = count & 0xff;
  let at = 5;
  for (let i = 0; i < count; i++) at = fill(b, at);
  return b.subarray(0, at);
}
const shapes: Record<string, [Uint8Array, boolean]> = {
  fixints: [msg((b, at) => { b[at] = 1; return at + 1; }, 1), false],
  'empty maps': [msg((b, at) => { b[at] = 0x80; return at + 1; }, 1), false],
  'empty arrays': [msg((b, at) => { b[at] = 0x90; return at + 1; }, 1), false],
  '1-char strs': [msg((b, at) => { b[at] = 0xa1; b[at + 1] = 0x61; return at + 2; }, 2), false],
  'fixext1 (own reader)': [msg((b, at) => { b[at] = 0xd4; b[at + 1] = 5; b[at + 2] = 1; return at + 3; }, 3), true],
  'fixints (own reader)': [msg((b, at) => { b[at] = 1; return at + 1; }, 1), true],
  'empty maps (own reader)': [msg((b, at) => { b[at] = 0x80; return at + 1; }, 1), true],
};
for (const [name, [bytes, own]] of Object.entries(shapes)) {
  const codec = new WireCodec();
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const t = performance.now();
  const v = codec.decode(bytes, 0, bytes.length, own) as unknown[];
  const ms = performance.now() - t;
  const heap = (process.memoryUsage().heapUsed - before) / 1048576;
  console.log(`${name.padEnd(26)} ${(bytes.length / 1048576).toFixed(1)} MiB -> ${v.length} values in ${ms.toFixed(0)} ms, heap +${heap.toFixed(0)} MiB`);
}
