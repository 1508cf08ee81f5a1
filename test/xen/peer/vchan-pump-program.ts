/**
 * A vchan end in its own process, for tests that kill it or destroy its peer's domain: opens a
 * vchan (our server or our client) to a peer, then writes and reads as fast as it can until the
 * channel ends. Prints JSON lines on stdout:
 *   {"event":"connected","readRingSize":..,"writeRingSize":..}
 *   {"event":"moved","read":N,"written":N}          after every 256 KiB each way
 *   {"event":"closed","reason":"domain-gone"|...}   when the channel ends
 *   {"event":"released","xenMappings":N}            once everything is released; N = its
 *                                                  /proc/self/maps lines of /dev/xen/* (0 = no
 *                                                  grant page of anybody still mapped)
 * and exits 0 after "released".
 * Usage: vchan-pump-program <server|client> <peer domid> <port> [ring bytes]
 */
import { readFileSync } from 'node:fs';
import { openXenBackend } from '@xenipc/core';
import { VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';

const [role, peerArg, port, ringArg] = process.argv.slice(2);
if ((role !== 'server' && role !== 'client') || peerArg === undefined || port === undefined) {
  console.error('usage: vchan-pump-program <server|client> <peer domid> <port> [ring bytes]');
  process.exit(2);
}
const peer = Number(peerArg);
const ring = ringArg === undefined ? undefined : Number(ringArg);
const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const REPORT_EVERY = 256 * 1024;

function xenMappings(): number {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('/dev/xen/')).length;
}

const backend = await openXenBackend();
const ep: VchanEndpoint = role === 'server'
  ? await VchanServer.listen(backend, { peer, port, ...(ring === undefined ? {} : { readSize: ring, writeSize: ring }) })
  : await VchanClient.connect(backend, { peer, port, timeoutMs: 120_000 });
say({ event: 'connected', readRingSize: ep.readRingSize, writeRingSize: ep.writeRingSize });
ep.once('close', (reason) => say({ event: 'closed', reason }));

let read = 0;
let written = 0;
let reported = 0;
const progress = (): void => {
  const steps = Math.floor(Math.min(read, written) / REPORT_EVERY);
  if (steps > reported) {
    reported = steps;
    say({ event: 'moved', read, written });
  }
};

async function pumpOut(): Promise<void> {
  const data = new Uint8Array(64 * 1024).fill(0x5a);
  while (ep.closeReason === undefined) {
    const n = ep.write(data);
    written += n;
    progress();
    if (n === 0) await ep.waitWritable(Math.min(data.length, ep.writeRingSize / 2)).catch(() => undefined);
  }
}
async function pumpIn(): Promise<void> {
  const into = new Uint8Array(256 * 1024);
  while (!ep.eof) {
    const n = ep.read(into);
    read += n;
    progress();
    if (n === 0) await ep.waitReadable(1);
  }
}

await Promise.all([pumpOut(), pumpIn()]);
await ep.closed();
await backend.close();
say({ event: 'released', xenMappings: xenMappings() });
process.exit(0);
