/** The msgid-indexed pending-call table, alone and under an RpcPeer. */
import { describe, expect, it } from 'vitest';
import { PendingCalls, type PendingCall } from '../src/peer/pending-calls.js';
import { RpcPeer, createMemoryTransportPair } from '../src/index.js';

function call(msgid: number): PendingCall {
  return { msgid, method: 'm', resolve: () => {}, reject: () => {}, deadline: 0, timer: undefined, signal: undefined, onAbort: undefined };
}

describe('PendingCalls', () => {
  it('finds a call only under its own msgid, even when another id maps to the same slot', () => {
    const table = new PendingCalls();
    table.reserve();
    table.add(call(5));
    expect(table.get(5)?.msgid).toBe(5);
    // 5 + 1024 and 5 + 2^31 share slot 5 at the initial capacity
    expect(table.slotTaken(5 + 1024)).toBe(true);
    expect(table.get(5 + 1024)).toBeUndefined();
    expect(table.remove(5 + 2 ** 31)).toBeUndefined();
    expect(table.size).toBe(1);
    expect(table.remove(5)?.msgid).toBe(5);
    expect(table.get(5)).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it('grows past half full and keeps every call findable, then shrinks once it keeps becoming empty', () => {
    const table = new PendingCalls();
    const ids: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      table.reserve();
      const id = i * 3 + 7;
      expect(table.slotTaken(id)).toBe(false);
      table.add(call(id));
      ids.push(id);
    }
    expect(table.size).toBe(10_000);
    for (const id of ids) expect(table.get(id)?.msgid).toBe(id);
    expect(table.all().map((c) => c.msgid).sort((a, b) => a - b)).toEqual(ids);
    for (const id of ids.reverse()) expect(table.remove(id)?.msgid).toBe(id);
    expect(table.size).toBe(0);
    // still grown after one burst: 1024 apart do not share a slot
    table.add(call(1));
    expect(table.slotTaken(1 + 1024)).toBe(false);
    table.remove(1);
    // light traffic afterwards (empty again and again): back to the initial capacity
    for (let i = 0; i < 100; i++) {
      table.reserve();
      table.add(call(i));
      table.remove(i);
    }
    table.add(call(1));
    expect(table.slotTaken(1 + 1024)).toBe(true);
  });
});

describe('RpcPeer msgid allocation with the pending table', () => {
  it('keeps a call that never answers pending while thousands of later calls reuse its slot range', async () => {
    const [a, b] = createMemoryTransportPair();
    const client = new RpcPeer(a, { timeoutMs: 0 });
    const server = new RpcPeer(b);
    let release: (value: string) => void = () => {};
    server.register('stuck', () => new Promise<string>((r) => { release = r; }));
    server.register('echo', (i: number) => i);
    const stuck = client.call('stuck');
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(Array.from({ length: 1500 }, (_, i) => client.call<number>('echo', i)));
      expect(results.every((r, i) => r === i)).toBe(true);
    }
    expect(client.pendingCalls).toBe(1);
    release('finally');
    await expect(stuck).resolves.toBe('finally');
    expect(client.pendingCalls).toBe(0);
    expect(client.stats.unknownResponses).toBe(0);
    client.close();
  });

  it('times out only the calls past the default deadline in a large table', async () => {
    const [a, b] = createMemoryTransportPair();
    const client = new RpcPeer(a, { timeoutMs: 300 });
    // every 'never' handler holds a slot: leave room for the echoes
    const server = new RpcPeer(b, { maxConcurrentHandlers: 10_000 });
    server.register('never', () => new Promise(() => {}));
    server.register('echo', (i: number) => i);
    const never = Array.from({ length: 2000 }, () => client.call('never').then(() => 'resolved', (e: unknown) => (e as Error).name));
    // answered calls in the same table (and in the same slots' range) do not time out
    await expect(Promise.all(Array.from({ length: 2000 }, (_, i) => client.call<number>('echo', i)))).resolves.toHaveLength(2000);
    expect(client.pendingCalls).toBe(2000);
    expect(new Set(await Promise.all(never))).toEqual(new Set(['RpcTimeoutError']));
    expect(client.pendingCalls).toBe(0);
    client.close();
  });

  it('expires a default-timeout call no earlier than the timeout (sweep ticks, no clock per call)', async () => {
    const [a, b] = createMemoryTransportPair();
    const client = new RpcPeer(a, { timeoutMs: 80 });
    const server = new RpcPeer(b);
    server.register('never', () => new Promise(() => {}));
    const elapsed: number[] = [];
    // started at different points of the sweep timer's tick
    for (const delay of [0, 3, 7, 11]) {
      await new Promise((r) => setTimeout(r, delay));
      const started = performance.now();
      elapsed.push(await client.call('never').then(() => -1, () => performance.now() - started));
    }
    for (const ms of elapsed) {
      expect(ms).toBeGreaterThanOrEqual(79); // timer granularity: 1 ms
      expect(ms).toBeLessThan(80 * 2);
    }
    client.close();
  });
});
