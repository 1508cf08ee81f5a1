/**
 * CPU cost per message of MessageChannel, both ends in ONE process on the loopback host.
 *
 * Cross-process benchmarks on a loaded 2-vCPU machine mostly measure the scheduler; this probe
 * measures what our code costs: the sender fills the ring with trySend() (send() when full), the
 * receiver drains it when the loopback event fires, one after the other on one thread. So
 * "total ns/msg" = send + receive work (+ one setImmediate per ring's worth), "send ns/msg" =
 * the time spent inside trySend()/send() calls. A cross-process pair can at best overlap the
 * two halves.
 *
 *   node --conditions=xenipc-source --import tsx bench/tools/message-cost.ts [sizes] [ringBytes] [ms] [reps] [message|frame] [copy|claim]
 *   e.g. ... message-cost.ts 16,64,1024,65536 65536 300 5 frame claim
 * The fifth argument picks the receive API: onMessage (a Uint8Array per message, default) or
 * onFrame (zero-allocation views of a private bulk copy); the sixth the send API: trySend() of a
 * prepared message (copy, default) or claim/commit with the message filled in place (claim).
 *
 * Prints the median of `reps` windows per size.
 */
import { createLoopbackHost } from '@xenipc/sim';
import { MessageChannel, VchanClient, VchanServer } from '@xenipc/channel';

const sizes = (process.argv[2] ?? '16,64,256,1024,4096,65536').split(',').map(Number);
const ringBytes = Number(process.argv[3] ?? 65536);
const windowMs = Number(process.argv[4] ?? 300);
const reps = Number(process.argv[5] ?? 5);
const mode = process.argv[6] === 'frame' ? 'frame' : 'message';
const inPlace = process.argv[7] === 'claim';

interface Sample {
  totalNs: number;
  sendNs: number;
}

async function measure(size: number, ms: number): Promise<Sample> {
  const host = createLoopbackHost();
  const [server, client] = await Promise.all([
    VchanServer.listen(host.domain(1), { peer: 2, port: 'cost', readSize: ringBytes, writeSize: ringBytes }),
    VchanClient.connect(host.domain(2), { peer: 1, port: 'cost' }),
  ]);
  let received = 0;
  let target = -1;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const rx =
    mode === 'frame'
      ? new MessageChannel(server, {
          onFrame: (_bytes, start, end) => {
            if (end - start !== size) throw new Error(`got ${end - start} bytes`);
            if (++received === target) done();
          },
        })
      : new MessageChannel(server, {
          onMessage: (m) => {
            if (m.length !== size) throw new Error(`got ${m.length} bytes`);
            if (++received === target) done();
          },
        });
  const tx = new MessageChannel(client);
  const payload = new Uint8Array(size).fill(7);
  let sent = 0;
  let sendMs = 0;
  const start = performance.now();
  const deadline = start + ms;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < 256; i++) {
      if (inPlace) {
        let claim = tx.claim(size);
        if (claim === null) {
          sendMs += performance.now() - t0;
          claim = await tx.claimAsync(size);
          for (const view of claim.views) view.fill(7);
          claim.commit();
          sent++;
          break;
        }
        for (const view of claim.views) view.fill(7);
        claim.commit();
        sent++;
        if (i === 255) sendMs += performance.now() - t0;
        continue;
      }
      if (!tx.trySend(payload)) {
        sendMs += performance.now() - t0;
        await tx.send(payload);
        sent++;
        break;
      }
      sent++;
      if (i === 255) sendMs += performance.now() - t0;
    }
    if (performance.now() >= deadline) break;
  }
  target = sent;
  tx.flush();
  if (received < target) await finished;
  const totalMs = performance.now() - start;
  await tx.close();
  await rx.closed();
  return { totalNs: (totalMs * 1e6) / sent, sendNs: (sendMs * 1e6) / sent };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

for (const size of sizes) await measure(size, 50); // JIT warm-up
console.log(`ring ${ringBytes} B, ${reps} x ${windowMs} ms, median, receive with on${mode === 'frame' ? 'Frame' : 'Message'}, send with ${inPlace ? 'claim/commit (filled in place)' : 'trySend() (copy)'}`);
console.log('size      total ns/msg  send ns/msg     MB/s (total)');
for (const size of sizes) {
  const samples: Sample[] = [];
  for (let r = 0; r < reps; r++) samples.push(await measure(size, windowMs));
  const total = median(samples.map((s) => s.totalNs));
  const send = median(samples.map((s) => s.sendNs));
  console.log(`${String(size).padEnd(8)} ${total.toFixed(1).padStart(12)} ${send.toFixed(1).padStart(12)} ${((size / total) * 1e3).toFixed(0).padStart(12)}`);
}
