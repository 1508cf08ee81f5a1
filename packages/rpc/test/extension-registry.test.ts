/**
 * Per-peer extension types: unknown types kept as RpcExtension and written back byte for byte,
 * ext 0 (Neovim's Buffer) as a value, registries that do not leak between peers or from msgpackr's
 * process-global table, and the registry's argument checks.
 */
import { Packr, addExtension } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { RpcExtension, RpcPeer, createMemoryTransportPair, type RpcExtensionCodec } from '../src/index.js';
import { WireCodec } from '../src/wire/msgpack-codec.js';
import { handEncode } from './hand-msgpack.js';

/** Bytes of an ext value with `length` payload bytes, in the canonical (smallest) form. */
function extBytes(type: number, payload: number[]): number[] {
  const n = payload.length;
  const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
  let header: number[];
  if (fixed[n] !== undefined) header = [fixed[n]!];
  else if (n <= 0xff) header = [0xc7, n];
  else if (n <= 0xffff) header = [0xc8, n >> 8, n & 0xff];
  else header = [0xc9, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  return [...header, type & 0xff, ...payload];
}

/** [0, 1, "m", [value]] around hand-made value bytes. */
function requestAround(value: number[]): Uint8Array {
  return Uint8Array.from([0x94, 0x00, 0x01, 0xa1, 0x6d, 0x91, ...value]);
}

describe('unknown extension types', () => {
  const sizes = [0, 1, 2, 3, 4, 8, 16, 17, 255, 256, 70_000];
  const types = [0, 1, 2, 5, 127, -5, -128];

  it('decode to RpcExtension {type, data} and encode back byte for byte, every size and type', () => {
    const codec = new WireCodec();
    for (const type of types) {
      for (const size of sizes) {
        const payload = Array.from({ length: size }, (_, i) => (i * 7 + type) & 0xff);
        const bytes = requestAround(extBytes(type, payload));
        const message = codec.decode(bytes, 0, bytes.length, true) as [number, number, string, [RpcExtension]];
        const value = message[3][0];
        expect(value).toBeInstanceOf(RpcExtension);
        expect(value.type).toBe(type);
        expect(Buffer.from(value.data).equals(Buffer.from(payload))).toBe(true);
        expect(Buffer.from(codec.encode(message)).equals(Buffer.from(bytes))).toBe(true);
      }
    }
  });

  it('ext 0 is a value (not undefined, as msgpackr reads it), even nested in maps', () => {
    const codec = new WireCodec();
    const bytes = requestAround([0x81, ...handEncode('buf'), ...extBytes(0, [0x05])]);
    const [, , , [map]] = codec.decode(bytes, 0, bytes.length, true) as [0, 1, string, [{ buf: RpcExtension }]];
    expect(map.buf).toEqual(new RpcExtension(0, Uint8Array.of(5)));
  });

  it('a held extension passes through two peers unchanged (received, sent back, received again)', async () => {
    const [a, b] = createMemoryTransportPair();
    const client = new RpcPeer(a);
    const server = new RpcPeer(b);
    const handle = new RpcExtension(1, Uint8Array.of(0xcd, 0x03, 0xe8)); // Neovim's window 1000
    server.register('echo', (value: unknown) => value);
    const back = await client.call<RpcExtension[]>('echo', [handle, handle]);
    expect(back).toEqual([handle, handle]);
    expect(back[0]).not.toBe(handle);
  });

  it('the payload is a copy that outlives the receive buffer', () => {
    const codec = new WireCodec();
    const bytes = requestAround(extBytes(9, [1, 2, 3]));
    const [, , , [ext]] = codec.decode(bytes, 0, bytes.length, true) as [0, 1, string, [RpcExtension]];
    bytes.fill(0);
    expect(Array.from(ext.data)).toEqual([1, 2, 3]);
  });

  it("unknownExtensions 'error' makes them undecodable", () => {
    const codec = new WireCodec({ unknownExtensions: 'error' });
    const bytes = requestAround(extBytes(3, [1]));
    expect(() => codec.decode(bytes, 0, bytes.length, true)).toThrow(/unknown extension type 3/);
  });
});

class Point {
  constructor(readonly x: number, readonly y: number) {}
}
const pointCodec: RpcExtensionCodec = {
  type: 1,
  decode: (data) => new Point(data[0]!, data[1]!),
  encode: (value) => (value instanceof Point ? Uint8Array.of(value.x, value.y) : undefined),
};

describe('per-peer registries', () => {
  it('two peers in one process with different registries read the same bytes their own way', async () => {
    const [a1, b1] = createMemoryTransportPair();
    const [a2, b2] = createMemoryTransportPair();
    const withCodec = new RpcPeer(a1, { extensions: [pointCodec] });
    const without = new RpcPeer(a2);
    const server1 = new RpcPeer(b1, { extensions: [pointCodec] });
    const server2 = new RpcPeer(b2);
    server1.register('point', () => new Point(3, 4));
    server2.register('point', () => new RpcExtension(1, Uint8Array.of(3, 4)));
    const [typed, raw] = await Promise.all([withCodec.call('point'), without.call('point')]);
    expect(typed).toEqual(new Point(3, 4));
    expect(typed).toBeInstanceOf(Point);
    expect(raw).toEqual(new RpcExtension(1, Uint8Array.of(3, 4)));
    // a registered encode() writes the ext; the peer without the codec receives an RpcExtension
    server2.register('take', (value: unknown) => value instanceof RpcExtension && value.type === 1 && Array.from(value.data));
    const [c3, s3] = createMemoryTransportPair();
    const sender = new RpcPeer(c3, { extensions: [pointCodec] });
    new RpcPeer(s3).register('take', (value: unknown) => value instanceof RpcExtension ? Array.from(value.data) : 'not an ext');
    expect(await sender.call('take', new Point(7, 8))).toEqual([7, 8]);
  });

  it("msgpackr's process-global addExtension does not reach a peer", async () => {
    class Marker { constructor(readonly tag: string) {} }
    addExtension({ Class: Marker, type: 44, write: (m: Marker) => m.tag, read: (tag: string) => new Marker(tag) });
    // the global registration is live for msgpackr itself ...
    const global = new Packr({ useRecords: false });
    expect(global.unpack(global.pack(new Marker('x')))).toBeInstanceOf(Marker);
    // ... but a peer reads type 44 as an RpcExtension
    const codec = new WireCodec();
    const bytes = requestAround(extBytes(44, [0xa1, 0x78]));
    const [, , , [value]] = codec.decode(bytes, 0, bytes.length, true) as [0, 1, string, [unknown]];
    expect(value).toBeInstanceOf(RpcExtension);
  });

  it('decodes the standard timestamp (ext -1) to a Date unless a codec claims it', () => {
    const codec = new WireCodec();
    const when = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    const bytes = codec.encode([0, 1, 'm', [when, new Date(0), new Date(-1500)]]);
    const [, , , dates] = codec.decode(bytes, 0, bytes.length, true) as [0, 1, string, Date[]];
    expect(dates).toEqual([when, new Date(0), new Date(-1500)]);
    const claimed = new WireCodec({ extensions: [{ type: -1, decode: (data) => data.length }] });
    expect((claimed.decode(bytes, 0, bytes.length, true) as [0, 1, string, number[]])[3]).toEqual([8, 4, 12]);
  });

  it('refuses bad registrations synchronously with node-style codes', () => {
    const [a] = createMemoryTransportPair();
    const make = (extensions: unknown): RpcPeer => new RpcPeer(a, { extensions: extensions as RpcExtensionCodec[] });
    for (const type of [0x42, 0x62, 0x72, 128, -129, 1.5]) {
      expect(() => make([{ type, decode: () => 0 }])).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    }
    expect(() => make([{ type: 1, decode: () => 0 }, { type: 1, decode: () => 0 }])).toThrow(RangeError);
    expect(() => make([{ type: 1 }])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => make([{ type: '1', decode: () => 0 }])).toThrow(TypeError);
    expect(() => make({ type: 1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => new RpcExtension(300, new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('rawStrings', () => {
  it('gives str payloads as bytes (not UTF-8 ones included) while method names and keys stay strings', async () => {
    const [a, b] = createMemoryTransportPair();
    const client = new RpcPeer(a);
    const server = new RpcPeer(b, { rawStrings: true });
    let seen: unknown;
    server.register('take', (...params: unknown[]) => { seen = params; return 'ok'; });
    await expect(client.call('take', 'x')).resolves.toBe('ok');
    expect(seen).toEqual([Uint8Array.of(0x78)]);
    // str "a\xffb" is not UTF-8; a plain peer reads U+FFFD
    const codec = new WireCodec({ rawStrings: true });
    const bytes = Uint8Array.from([0x94, 0x00, 0x09, ...handEncode('take'), 0x92, 0xa3, 0x61, 0xff, 0x62, 0x81, ...handEncode('key'), ...handEncode('v')]);
    expect(codec.decode(bytes, 0, bytes.length, false)).toEqual([0, 9, 'take', [Uint8Array.of(0x61, 0xff, 0x62), { key: Uint8Array.of(0x76) }]]);
    const plain = new WireCodec();
    expect((plain.decode(bytes, 0, bytes.length, false) as unknown[])[3]).toEqual(['a\ufffdb', { key: 'v' }]);
  });
});

describe('undecodable responses', () => {
  it('reject their call at once with RpcDecodeError, counted, over a memory pair and a socket', async () => {
    const { unixSocketPair } = await import('./socket-pair.js');
    const { RpcDecodeError, createStreamPeer } = await import('../src/index.js');
    const [a, b] = createMemoryTransportPair();
    const { a: sa, b: sb, dispose } = await unixSocketPair();
    try {
      for (const [client, server] of [
        [new RpcPeer(a, { unknownExtensions: 'error' }), new RpcPeer(b)],
        [createStreamPeer(sa, { unknownExtensions: 'error' }), createStreamPeer(sb)],
      ] as const) {
        server.register('ext', () => new RpcExtension(7, Uint8Array.of(1)));
        server.register('fine', () => 'fine');
        const error = await client.call('ext').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RpcDecodeError);
        expect(error).toMatchObject({ code: 'ERR_RPC_DECODE', method: 'ext' });
        expect(client.stats).toMatchObject({ responsesUndecodable: 1, decodeErrors: 1, callsTimedOut: 0 });
        expect(client.pendingCalls).toBe(0);
        await expect(client.call('fine')).resolves.toBe('fine');
      }
    } finally {
      dispose();
    }
  });
});
