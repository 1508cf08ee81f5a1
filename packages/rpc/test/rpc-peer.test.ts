import { unpack } from 'msgpackr';
import { describe, expect, it, vi } from 'vitest';
import {
  ConnectionClosedError, RemoteError, RpcPeer, RpcTimeoutError, createMemoryTransportPair, type MemoryTransport,
} from '../src/index.js';

interface Calculator {
  add(a: number, b: number): number;
  slowEcho<T>(value: T, ms: number): Promise<T>;
  fail(message: string): never;
}

class CalculatorImpl implements Calculator {
  add(a: number, b: number): number {
    return a + b;
  }
  async slowEcho<T>(value: T, ms: number): Promise<T> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return value;
  }
  fail(message: string): never {
    const error = new TypeError(message) as TypeError & { code: string; data: unknown };
    error.code = 'E_FAIL';
    error.data = { detail: [1, 2, 3] };
    throw error;
  }
}

function pair(options = {}): { client: RpcPeer; server: RpcPeer; clientSide: MemoryTransport; serverSide: MemoryTransport } {
  const [clientSide, serverSide] = createMemoryTransportPair();
  return { client: new RpcPeer(clientSide, options), server: new RpcPeer(serverSide, options), clientSide, serverSide };
}

describe('RpcPeer over an in-memory transport pair', () => {
  it('calls registered handlers and resolves with their (sync or async) results', async () => {
    const { client, server } = pair();
    server.register('add', (a: number, b: number) => a + b);
    server.register('later', async (x: string) => `${x}!`);
    await expect(client.call('add', 2, 40)).resolves.toBe(42);
    await expect(client.call('later', 'hi')).resolves.toBe('hi!');
    expect(client.stats.callsSent).toBe(2);
    expect(server.stats.requestsReceived).toBe(2);
  });

  it('serves and calls in both directions on one connection', async () => {
    const { client, server } = pair();
    client.register('whoami', () => 'client');
    server.register('ask-back', async () => `server asked ${await server.call('whoami')}`);
    await expect(client.call('ask-back')).resolves.toBe('server asked client');
  });

  it('exposes an object and gives a typed proxy', async () => {
    const { client, server } = pair();
    server.expose(new CalculatorImpl());
    const calc = client.proxy<Calculator>();
    const sum: number = await calc.add(1, 2);
    expect(sum).toBe(3);
    await expect(calc.slowEcho({ a: [1, 'x'] }, 5)).resolves.toEqual({ a: [1, 'x'] });
    // the proxy is not a thenable
    expect((calc as unknown as { then?: unknown }).then).toBeUndefined();
  });

  it('turns a throwing handler into a RemoteError with name, message, code and data', async () => {
    const { client, server } = pair();
    server.expose(new CalculatorImpl());
    const error = await client.proxy<Calculator>().fail('boom').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ name: 'TypeError', message: 'boom', code: 'E_FAIL', data: { detail: [1, 2, 3] } });
  });

  it('rejects an unknown method with RemoteError MethodNotFound', async () => {
    const { client, server } = pair();
    const error = await client.call('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).name).toBe('MethodNotFound');
    expect(server.stats.methodNotFound).toBe(1);
  });

  it('pipelines many calls whose responses arrive in any order', async () => {
    const { client, server } = pair();
    server.register('delayedDouble', (x: number, ms: number) => new Promise((r) => setTimeout(() => r(x * 2), ms)));
    const calls = Array.from({ length: 200 }, (_, i) => client.call<number>('delayedDouble', i, (i * 7) % 13));
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 200 }, (_, i) => i * 2));
  });

  it('delivers notifications and reports notification handler failures as events', async () => {
    const { client, server } = pair();
    const seen: unknown[] = [];
    server.register('log', (line: string) => { seen.push(line); });
    server.register('bad', () => { throw new Error('nope'); });
    const errors: unknown[] = [];
    server.on('handler-error', (error, method) => errors.push([method, (error as Error).message]));
    expect(client.notify('log', 'one')).toBe(true);
    client.notify('bad');
    client.notify('unregistered');
    await client.call('log', 'two');
    expect(seen).toEqual(['one', 'two']);
    expect(errors).toEqual([['bad', 'nope']]);
    expect(server.stats.unknownNotifications).toBe(1);
  });

  it('times out a call locally and counts its late response', async () => {
    const { client, server } = pair();
    server.register('sleep', (ms: number) => new Promise((r) => setTimeout(() => r('late'), ms)));
    const error = await client.callWith({ timeoutMs: 20 }, 'sleep', 80).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcTimeoutError);
    expect(client.pendingCalls).toBe(0);
    await new Promise((r) => setTimeout(r, 120));
    expect(client.stats.lateResponses).toBe(1);
    expect(client.stats.unknownResponses).toBe(0);
    await expect(client.call('sleep', 1)).resolves.toBe('late');
  });

  it('applies the default timeout through the shared sweep timer', async () => {
    const { client, server } = pair({ timeoutMs: 30 });
    server.register('sleep', (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms)));
    const started = performance.now();
    const results = await Promise.allSettled([client.call('sleep', 1), client.call('sleep', 200), client.call('sleep', 5)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(RpcTimeoutError);
    expect(performance.now() - started).toBeLessThan(150);
  });

  it('arms the sweep timer once for a run of one-at-a-time calls, stops it when idle, clears it on close', async () => {
    const sweepMs = 480 / 16;
    const { client, server } = pair({ timeoutMs: 480 });
    server.register('add', (a: number, b: number) => a + b);
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const clearTimeoutSpy = vi.spyOn(globalThis, 'clearTimeout');
    try {
      const sweeps = (): number => setTimeoutSpy.mock.calls.filter(([, ms]) => ms === sweepMs).length;
      for (let i = 0; i < 50; i++) await client.call('add', i, 1);
      expect(sweeps()).toBe(1);
      expect(clearTimeoutSpy).not.toHaveBeenCalled();
      // Its tick finds nothing pending and does not re-arm.
      await new Promise((r) => setTimeout(r, sweepMs * 4));
      expect(sweeps()).toBe(1);
      // A call after the idle tick still expires, on a timer armed for it.
      const started = performance.now();
      server.register('never', () => new Promise(() => {}));
      await expect(client.call('never')).rejects.toBeInstanceOf(RpcTimeoutError);
      expect(performance.now() - started).toBeGreaterThanOrEqual(479);
      expect(sweeps()).toBeGreaterThan(1);
      await client.call('add', 1, 1);
      client.close();
      expect(clearTimeoutSpy).toHaveBeenCalled();
    } finally {
      setTimeoutSpy.mockRestore();
      clearTimeoutSpy.mockRestore();
    }
  });

  it('rejects with the abort reason when the signal aborts, before or during the call', async () => {
    const { client, server } = pair();
    server.register('sleep', (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms)));
    const controller = new AbortController();
    const inFlight = client.callWith({ signal: controller.signal }, 'sleep', 50);
    controller.abort();
    await expect(inFlight).rejects.toMatchObject({ name: 'AbortError' });
    await expect(client.callWith({ signal: controller.signal }, 'sleep', 1)).rejects.toMatchObject({ name: 'AbortError' });
    await new Promise((r) => setTimeout(r, 80));
    expect(client.stats.lateResponses).toBe(1);
    expect(client.stats.callsAborted).toBe(2);
  });

  it('rejects every pending call at once when the peer crashes', async () => {
    const { client, server, serverSide } = pair();
    server.register('never', () => new Promise(() => {}));
    const calls = Array.from({ length: 1000 }, () => client.call('never').catch((e: unknown) => e));
    await new Promise((r) => setTimeout(r, 10));
    const closes: ConnectionClosedError[] = [];
    client.on('close', (e) => closes.push(e));
    serverSide.crash();
    const errors = await Promise.all(calls);
    for (const error of errors) {
      expect(error).toBeInstanceOf(ConnectionClosedError);
      expect((error as ConnectionClosedError).reason).toBe('peer-crashed');
    }
    expect(closes).toHaveLength(1);
    await expect(client.call('x')).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(client.notify('x')).toBe(false);
  });

  it('rejects pending calls with reason closed on local close', async () => {
    const { client, server } = pair();
    server.register('never', () => new Promise(() => {}));
    const pending = client.call('never');
    client.close();
    await expect(pending).rejects.toMatchObject({ reason: 'closed' });
    expect(server.isClosed).toBe(true);
    expect(server.closeReason).toBe('peer-closed');
  });

  it('rejects a call whose params cannot be encoded without sending it', async () => {
    const { client } = pair();
    await expect(client.call('x', Symbol('s'))).rejects.toThrow();
    expect(client.stats.callsUnsendable).toBe(1);
    expect(client.pendingCalls).toBe(0);
  });

  it('answers with EncodeError when a result cannot be encoded', async () => {
    const { client, server } = pair();
    server.register('sym', () => Symbol('s'));
    await expect(client.call('sym')).rejects.toMatchObject({ name: 'EncodeError' });
  });

  it('wraps msgids after 2^32-1 and skips ids still pending', async () => {
    const { client, server } = pair();
    const seen: number[] = [];
    server.register('slow', () => new Promise((r) => setTimeout(() => r('slow'), 30)));
    server.register('fast', () => 'fast');
    const internals = client as unknown as { nextMsgid: number };
    internals.nextMsgid = 0;
    const slow = client.call('slow'); // msgid 0 stays pending
    internals.nextMsgid = 0xfffffffe;
    const sent: Promise<unknown>[] = [];
    const [clientSide] = [(client as unknown as { transport: { send: (m: Uint8Array) => boolean } }).transport];
    const originalSend = clientSide.send.bind(clientSide);
    clientSide.send = (m: Uint8Array) => { seen.push((unpack(m) as number[])[1]!); return originalSend(m); };
    for (let i = 0; i < 3; i++) sent.push(client.call('fast'));
    await expect(Promise.all(sent)).resolves.toEqual(['fast', 'fast', 'fast']);
    await expect(slow).resolves.toBe('slow');
    // 0xfffffffe, 0xffffffff, then 0 is pending so 1
    expect(seen).toEqual([0xfffffffe, 0xffffffff, 1]);
  });

  it('expose() serves class methods but never reads accessors', async () => {
    const { client, server } = pair();
    let getterRuns = 0;
    class Service {
      get sideEffect(): () => string { getterRuns++; return () => 'x'; }
      hello(name: string): string { return `hello ${name}`; }
    }
    server.expose(new Service());
    await expect(client.call('hello', 'vm')).resolves.toBe('hello vm');
    await expect(client.call('sideEffect')).rejects.toMatchObject({ name: 'MethodNotFound' });
    expect(getterRuns).toBe(0);
  });
});
