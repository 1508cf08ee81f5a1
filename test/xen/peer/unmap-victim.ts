/**
 * A process that sets up a grant with an unmap notification (clear a byte + send an event) and
 * then waits to be killed: the survivor in the other domain checks that Xen/Linux fire the
 * notification when a process dies by SIGKILL, without any cleanup of its own.
 *
 * Usage: node --conditions=xenipc-source --import tsx unmap-victim.ts '<VictimPlan JSON>'
 * Prints one VictimReady JSON line on stdout once set up, then sleeps.
 */
import { openXenBackend } from '@xenipc/core';
import type { VictimPlan, VictimReady } from './agent-protocol.js';

const VICTIM_MARK = 0xa5;

const plan = JSON.parse(process.argv[2] ?? '') as VictimPlan;
const backend = await openXenBackend();
const ready: VictimReady = { pid: process.pid };
if (plan.role === 'mapper') {
  const mapping = await backend.map(plan.peer, plan.refs, { writable: true });
  const channel = await backend.bindInterdomain(plan.peer, plan.remotePort);
  mapping.setUnmapNotify({ clearByte: plan.clearByte, sendEvent: channel });
} else {
  const granted = await backend.share(plan.peer, plan.pages, { writable: true });
  new Uint8Array(granted.buffer)[plan.clearByte] = VICTIM_MARK;
  const channel = await backend.bindUnbound(plan.peer);
  granted.setUnmapNotify({ clearByte: plan.clearByte, sendEvent: channel });
  ready.refs = [...granted.refs];
  ready.port = channel.localPort;
}
process.stdout.write(`${JSON.stringify(ready)}\n`);
setInterval(() => undefined, 1 << 30);   // wait for SIGKILL
