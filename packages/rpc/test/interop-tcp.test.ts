/**
 * Interop with an independent msgpack-rpc peer (hand-written encoder/decoder from the spec, see
 * hand-msgpack.ts) over TCP on 127.0.0.1: it calls our server and serves our client.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteError, createStreamPeer, type RpcPeer } from '../src/index.js';
import { HandMessageReader, handEncode, type HandValue } from './hand-msgpack.js';

const cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups.splice(0)) c(); });

/** A TCP server on 127.0.0.1; resolves with both connected sockets. */
async function socketPair(): Promise<{ ours: Socket; theirs: Socket }> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const theirs = connect(port, '127.0.0.1');
  const ours = await accepted;
  await new Promise<void>((resolve) => theirs.once('connect', resolve));
  cleanups.push(() => { ours.destroy(); theirs.destroy(); server.close(); });
  return { ours, theirs };
}

function send(socket: Socket, ...messages: HandValue[]): void {
  socket.write(Uint8Array.from(messages.flatMap((m) => handEncode(m))));
}

describe('interop with a hand-written msgpack-rpc peer over TCP', () => {
  it('the foreign client calls our server: results, errors, unknown methods, notifications, split writes', async () => {
    const { ours, theirs } = await socketPair();
    const server: RpcPeer = createStreamPeer(ours);
    const notes: unknown[] = [];
    server.register('add', (a: number, b: number) => a + b);
    server.register('echo', (v: unknown) => v);
    server.register('note', (v: unknown) => { notes.push(v); });
    server.register('fail', () => { throw new RangeError('out of range'); });
    const reader = new HandMessageReader();
    theirs.on('data', (chunk: Buffer) => reader.push(chunk));

    const complex: HandValue = { list: [1, -5, 300, 70000, -40000, 1.25, 'žluť', null, true, false], nested: { k: 'v' } };
    send(theirs,
      [2, 'note', ['hello']],
      [0, 1, 'add', [20, 22]],
      [0, 2, 'echo', [complex]],
      [0, 3, 'missing', []],
      [0, 4, 'fail', []],
      [0, 0xfffffffe, 'add', [1, 1]]);
    // one request split byte by byte across writes
    for (const byte of handEncode([0, 5, 'add', [100, 200]])) {
      theirs.write(Uint8Array.of(byte));
      await new Promise((r) => setImmediate(r));
    }
    const responses = await reader.waitFor(6);
    const byId = new Map(responses.map((r) => [(r as HandValue[])[1], r]));
    expect(byId.get(1)).toEqual([1, 1, null, 42]);
    expect(byId.get(2)).toEqual([1, 2, null, complex]);
    // error slot [type, message] as Neovim reads it; the details for a xenipc caller in the result slot
    expect(byId.get(3)).toEqual([1, 3, [0, "no handler for method 'missing'"],
      { name: 'MethodNotFound', message: "no handler for method 'missing'", code: 'ERR_RPC_METHOD_NOT_FOUND' }]);
    expect(byId.get(4)).toEqual([1, 4, [0, 'out of range'], { name: 'RangeError', message: 'out of range' }]);
    expect(byId.get(0xfffffffe)).toEqual([1, 0xfffffffe, null, 2]);
    expect(byId.get(5)).toEqual([1, 5, null, 300]);
    expect(notes).toEqual(['hello']);
  });

  it('our client calls the foreign server; it answers out of order, with spec-shaped errors', async () => {
    const { ours, theirs } = await socketPair();
    const client: RpcPeer = createStreamPeer(ours);
    const reader = new HandMessageReader();
    theirs.on('data', (chunk: Buffer) => reader.push(chunk));

    const first = client.call('upper', 'abc');
    const second = client.call('upper', 'xyz');
    const third = client.call('broken');
    const fourth = client.call('nvimStyle');
    client.notify('tick', 7);
    const requests = await reader.waitFor(5);
    expect(requests[0]).toEqual([0, 0, 'upper', ['abc']]);
    expect(requests[4]).toEqual([2, 'tick', [7]]);
    // reply in reverse order (Neovim's profile), with a bare-string error and a [code, message] error
    const replies: HandValue[] = [];
    for (const request of requests.slice(0, 4).reverse()) {
      const [, msgid, method, params] = request as [number, number, string, HandValue[]];
      if (method === 'upper') replies.push([1, msgid, null, String(params[0]).toUpperCase()]);
      else if (method === 'broken') replies.push([1, msgid, 'it broke', null]);
      else replies.push([1, msgid, [3, 'Invalid buffer id'], null]);
    }
    send(theirs, ...replies);
    await expect(first).resolves.toBe('ABC');
    await expect(second).resolves.toBe('XYZ');
    const broken = await third.catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(RemoteError);
    expect(broken).toMatchObject({ name: 'Error', message: 'it broke' });
    await expect(fourth).rejects.toMatchObject({ name: 'Error', message: 'Invalid buffer id', code: 3 });
  });

  it('encodes requests as plain msgpack-rpc bytes (no msgpackr extensions)', async () => {
    const { ours, theirs } = await socketPair();
    const client = createStreamPeer(ours);
    const bytes: number[] = [];
    theirs.on('data', (chunk: Buffer) => bytes.push(...chunk));
    void client.call('add', 1, 2, undefined, { k: 1 }).catch(() => {});
    await new Promise((r) => setTimeout(r, 50));
    // [0, 0, "add", [1, 2, nil, {"k": 1}]]: the map header may be fixmap or map16, both standard
    const head = [0x94, 0x00, 0x00, 0xa3, 0x61, 0x64, 0x64, 0x94, 0x01, 0x02, 0xc0];
    expect(bytes.slice(0, head.length)).toEqual(head);
    const map = bytes.slice(head.length);
    expect([[0x81, 0xa1, 0x6b, 0x01], [0xde, 0x00, 0x01, 0xa1, 0x6b, 0x01]]).toContainEqual(map);
    client.close();
  });
});
