/**
 * The domU's half of the resource ledger test (cross-domain/resource-ledger.xen.test.ts):
 * `count` vchans with dom0 one after the other, each: open (our server, or our client), 1 MiB
 * each way (patterns by the channel's number, checked on arrival), close. Channel 1 is the
 * warm-up (devices open lazily on first use): after it the program prints {"event":"warm"} and
 * waits until dom0 has taken its baseline and written <go path>, then takes its own (a
 * ProcessLedger); after the last channel {"event":"done","baseline":..,"ledger":..,"badChannels":[..]};
 * then it stays alive (so dom0 can count what Xen still holds for this domain) until killed.
 * Usage: ledger-peer-program <server|client> <peer domid> <count> <port prefix> <ring bytes> <payload bytes> <go path>
 */
import { createHash } from 'node:crypto';
import { openXenBackend, type XenStore } from '@xenipc/core';
import { channelPayload } from './byte-pattern.js';
import { exchange } from './bulk-exchange.js';
import { closeLedgerChannel, ledgerStats, openLedgerChannel } from './ledger-channel.js';
import { processLedger } from './resource-ledger.js';

const [role, peerArg, countArg, prefix, ringArg, payloadArg, goPath] = process.argv.slice(2);
if ((role !== 'server' && role !== 'client') || !peerArg || !countArg || !prefix || !ringArg || !payloadArg || !goPath) {
  console.error('usage: ledger-peer-program <server|client> <peer> <count> <port prefix> <ring bytes> <payload bytes> <go path>');
  process.exit(2);
}
const peer = Number(peerArg);
const ring = Number(ringArg);
const payload = Number(payloadArg);
const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
// Two patterns per direction, alternating: neighbouring channels never carry the same bytes.
const ours = [channelPayload(payload, 0, false), channelPayload(payload, 1, false)];
const theirs = [sha(channelPayload(payload, 0, true)), sha(channelPayload(payload, 1, true))];

/** Resolves once `path` exists (watching it). */
async function awaitKey(xs: XenStore, path: string): Promise<void> {
  const token = `ledger-go-${process.pid}`;
  let wake = (): void => undefined;
  const onWatch = (): void => wake();
  xs.on('watch', onWatch);
  await xs.watch(path, token);
  try {
    for (;;) {
      const changed = new Promise<void>((resolve) => (wake = resolve));
      if (await xs.read(path).then(() => true, () => false)) return;
      await changed;
    }
  } finally {
    xs.off('watch', onWatch);
    await xs.unwatch(path, token);
  }
}

const backend = await openXenBackend();
const bad: number[] = [];
let baseline = processLedger();
for (let i = 1; i <= Number(countArg); i++) {
  const port = `${prefix}${i}`;
  const ep = await openLedgerChannel(role, backend, peer, port, ring);
  try {
    const got = await exchange(ep, ours[i % 2]!, payload);
    if (got.received !== payload || got.sha256 !== theirs[i % 2]) bad.push(i);
  } finally {
    await closeLedgerChannel(ep);
  }
  if (i === 1) {
    say({ event: 'warm' });
    await awaitKey(backend.xenstore, goPath);
    // After the wait: watching may open a descriptor of its own, once.
    baseline = processLedger();
  }
}
say({ event: 'done', baseline, ledger: processLedger(), badChannels: bad, enospcRetries: ledgerStats.enospcRetries });
// Stay (holding only the backend) until dom0 has counted and kills us.
setInterval(() => undefined, 1 << 30);
