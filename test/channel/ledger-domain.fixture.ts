/**
 * One domain of the simulated-host resource ledger (resource-ledger.test.ts), in its own OS
 * process, driven over IPC by ledger-domain.ts: {id, cmd, ...} -> {id, ...result} or {id, error}.
 * Commands:
 * - join            become a domain (the host picks a new domid)
 * - cycle {role, peer, port, ringSize, bytes, msgSize, stallAfter?}
 *     open one channel (server: rings of ringSize both ways), send `bytes` in messages of
 *     `msgSize` while receiving the peer's, then close. Replies with how long opening took
 *     (connectMs), SHA-256 of both directions, what was received and how the channel ended (the
 *     close reason when the peer went first). With `stallAfter`: send only that many bytes,
 *     post {event: 'stalled', sent, sentHash} and keep receiving, never replying: the test
 *     SIGKILLs this process mid-transfer.
 * - ledger          what this process holds: the host's line for this domain (counted after all
 *     our earlier requests reached the host: SimBackend.resources()), the backend's regions,
 *     channels, early events and peer links, and the process's open fds, mapped grant memfds and
 *     active handles (timers, sockets) by type
 * - close           leave the host and exit
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { ChannelClosedError, MessageChannel, VchanClient, VchanServer, type VchanEndpoint } from '@xenipc/channel';
import { joinSimulatedHost, type SimBackend } from '@xenipc/sim';

type Command = { id: number; cmd: string; [key: string]: unknown };
const dir = process.argv[2] ?? '';
let backend: SimBackend | undefined;

/** A fixed pseudo-random block; message k of a transfer is a window into it. */
const BLOCK = new Uint8Array(2 << 20);
{
  let x = 0x2545f491;
  for (let i = 0; i < BLOCK.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    BLOCK[i] = x & 0xff;
  }
}

function joined(): SimBackend {
  if (backend === undefined) throw new Error('join first');
  return backend;
}

async function open(args: Command): Promise<VchanEndpoint> {
  const peer = args['peer'] as number;
  const port = args['port'] as string;
  if (args['role'] === 'server') {
    const size = args['ringSize'] as number;
    return VchanServer.listen(joined(), { peer, port, readSize: size, writeSize: size, timeoutMs: 20_000 });
  }
  return VchanClient.connect(joined(), { peer, port, timeoutMs: 20_000 });
}

async function cycle(args: Command): Promise<Record<string, unknown>> {
  const started = performance.now();
  const ep = await open(args);
  const connectMs = performance.now() - started;
  const bytes = args['bytes'] as number;
  const msgSize = args['msgSize'] as number;
  const stallAfter = args['stallAfter'] as number | undefined;
  const recvHash = createHash('sha256');
  const sentHash = createHash('sha256');
  let received = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const mc = new MessageChannel(ep, {
    maxMessageSize: msgSize,
    onMessage: (m) => {
      recvHash.update(m);
      received += m.length;
      if (received >= bytes) resolveDone();
    },
  });
  mc.once('close', () => resolveDone());
  const toSend = stallAfter ?? bytes;
  let sent = 0;
  let offset = (args['seed'] as number | undefined) ?? 0;
  try {
    while (sent < toSend) {
      const n = Math.min(msgSize, toSend - sent);
      offset = (offset + 4099) % (BLOCK.length - n);
      const m = BLOCK.subarray(offset, offset + n);
      if (!mc.trySend(m)) await mc.send(m);
      sentHash.update(m);
      sent += n;
    }
    mc.flush();
  } catch (err) {
    // The peer died while we were sending: what it received is what it committed; go on.
    if (!(err instanceof ChannelClosedError)) throw err;
  }
  if (stallAfter !== undefined) {
    process.send?.({ event: 'stalled', sent, sentHash: sentHash.digest('hex') });
    return new Promise(() => undefined); // keep receiving until SIGKILL
  }
  await done;
  const reason = mc.closeReason;
  await mc.close();
  return { connectMs, sent, sentHash: sentHash.digest('hex'), received, recvHash: recvHash.digest('hex'), reason: reason ?? null };
}

/** Active handles of this process by type (the IPC channel and stdio included). */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

async function ledger(): Promise<Record<string, unknown>> {
  const resources = await joined().resources();
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\n');
  return {
    ...resources,
    fds: readdirSync('/proc/self/fd').length,
    grantMaps: maps.filter((line) => line.includes('xenipc-sim-grant')).length,
    pendingMaps: maps.filter((line) => line.includes('xenipc-sim-pending')).length,
    activeResources: activeResources(),
  };
}

process.on('message', (msg: Command) => {
  void (async () => {
    try {
      let result: Record<string, unknown>;
      switch (msg.cmd) {
        case 'join':
          backend = await joinSimulatedHost({ dir, autoStart: false });
          result = { domid: backend.domid };
          break;
        case 'cycle':
          result = await cycle(msg);
          break;
        case 'ledger':
          result = await ledger();
          break;
        case 'close':
          await backend?.close();
          process.send?.({ id: msg.id }, () => process.exit(0));
          return;
        default:
          throw new Error(`unknown command ${msg.cmd}`);
      }
      process.send?.({ id: msg.id, ...result });
    } catch (err) {
      const e = err as { code?: string; message?: string; stack?: string };
      process.send?.({ id: msg.id, error: e.code ?? 'ERROR', message: e.message, stack: e.stack });
    }
  })();
});
