/**
 * Diagnostic: do two processes on this machine ever run at the same moment? A writer process
 * stores an incrementing counter into shared memory (a memfd mapped by both) without pause; a
 * reader spins in 20 us windows, like a channel waiting for its peer, and counts the windows in
 * which it saw the counter move. On two free cores that is ~100 %; it is the ceiling for any
 * spin-based hand-off (ping-pong, RPC round trips) between two processes.
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-overlap.ts [load|rmw]
 * (`rmw` reads with Atomics.add(.., 0) instead of Atomics.load, to rule out a stale load.)
 */
import { fork } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mapFile, memfdCreate } from '@xenipc/core';

const SPIN_WINDOW_MS = 0.02;
const role = process.argv[2] ?? 'main';

function mapShared(path: string): Int32Array {
  const fd = openSync(path, 'r+');
  const mapping = mapFile(fd, 0, 4096, { writable: true });
  closeSync(fd);
  return new Int32Array(mapping.buffer);
}

if (role === 'main' || role === 'load' || role === 'rmw') {
  const fd = memfdCreate('xenipc-bench-overlap', 4096);
  const path = `/proc/${process.pid}/fd/${fd}`;
  const self = fileURLToPath(import.meta.url);
  const writer = fork(self, ['writer', path], { execArgv: process.execArgv });
  const reader = fork(self, ['reader', path, role === 'rmw' ? 'rmw' : 'load'], { execArgv: process.execArgv });
  await new Promise((resolve) => reader.once('exit', resolve));
  writer.kill();
} else if (role === 'writer') {
  const words = mapShared(process.argv[3]!);
  const started = performance.now();
  let counter = 0;
  while (performance.now() - started < 5000) for (let k = 0; k < 1000; k++) Atomics.store(words, 0, ++counter);
  process.exit(0);
} else {
  const words = mapShared(process.argv[3]!);
  const read = process.argv[4] === 'rmw' ? () => Atomics.add(words, 0, 0) : () => Atomics.load(words, 0);
  await new Promise((resolve) => setTimeout(resolve, 300));
  let windows = 0;
  let moved = 0;
  let last = read();
  const end = performance.now() + 1000;
  while (performance.now() < end) {
    windows++;
    const deadline = performance.now() + SPIN_WINDOW_MS;
    let seen = false;
    do {
      const value = read();
      if (value !== last) {
        seen = true;
        last = value;
      }
    } while (performance.now() < deadline);
    if (seen) moved++;
  }
  console.log(`${process.argv[4]}: the writer was seen running in ${moved} of ${windows} spin windows of 20 us (${((100 * moved) / windows).toFixed(1)} %)`);
  process.exit(0);
}
