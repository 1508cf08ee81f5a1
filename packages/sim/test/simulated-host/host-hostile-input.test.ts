/** The sim host treats every domain connection as hostile: bad frames end that connection only. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSimLedger, type SimulatedHost, startSimulatedHost } from '@xenipc/sim';

let dir: string;
let host: SimulatedHost;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xenipc-sim-hostile-'));
  host = await startSimulatedHost({ dir });
});

afterAll(async () => {
  await host.close();
  rmSync(dir, { recursive: true });
});

async function raw(): Promise<Socket> {
  const socket = connect(join(dir, 'host.sock'));
  await once(socket, 'connect');
  return socket;
}

function frame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message));
  const header = Buffer.alloc(4);
  header.writeUInt32LE(body.length);
  return Buffer.concat([header, body]);
}

async function replyTo(socket: Socket, message: unknown): Promise<Record<string, any>> {
  socket.write(frame(message));
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  return JSON.parse(chunk.subarray(4).toString()) as Record<string, any>;
}

describe('sim host under hostile input', () => {
  it('an oversize or non-JSON control frame closes only that connection', async () => {
    for (const garbage of [Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]), Buffer.concat([Buffer.from([3, 0, 0, 0]), Buffer.from('{{{')])]) {
      const socket = await raw();
      socket.write(garbage);
      await once(socket, 'close');
    }
    expect((await getSimLedger(dir)).domains).toEqual([]);
  });

  it('requests before hello, unknown ops, and out-of-range notify offsets are refused with errno codes', async () => {
    const socket = await raw();
    expect((await replyTo(socket, { id: 1, op: 'share', peer: 1, pageCount: 1 })).error.code).toBe('ENOTCONN');
    const hello = await replyTo(socket, { id: 2, op: 'hello', pid: process.pid, eventSocket: '/tmp/not-abstract' });
    expect(hello.error.code).toBe('EINVAL');
    const ok = await replyTo(socket, { id: 3, op: 'hello', pid: process.pid, eventSocket: '\0xenipc-sim-evt-test' });
    expect(typeof ok.domid).toBe('number');
    expect((await replyTo(socket, { id: 4, op: 'frobnicate' })).error.code).toBe('ENOSYS');
    const share = await replyTo(socket, { id: 5, op: 'share', peer: 0, pageCount: 1 });
    const bad = await replyTo(socket, { id: 6, op: 'set-notify', target: 'share', targetId: share.shareId, clearByte: 1 << 30 });
    expect(bad.error.code).toBe('EINVAL');
    expect((await replyTo(socket, { id: 7, op: 'share', peer: 'x', pageCount: 1 })).error.code).toBe('EINVAL');
    expect((await replyTo(socket, { id: 8, op: 'map', peer: 0, refs: ['a'] })).error.code).toBe('EINVAL');
    socket.destroy();
    await once(socket, 'close');
  });
});
