/**
 * The error slot: what we write (Neovim-readable `[type, message]` plus details, or the 'map'
 * format), what two xenipc peers read back (name, message, code, data in every combination),
 * every foreign shape still read, and error texts that never spell out peer data at length.
 */
import { describe, expect, it } from 'vitest';
import {
  RemoteError, RpcErrorCodes, RpcPeer, createMemoryTransportPair, type ErrorFormat,
} from '../src/index.js';
import { WireCodec } from '../src/wire/msgpack-codec.js';
import { remoteErrorFromWire } from '../src/wire/wire-error.js';
import { handEncode } from './hand-msgpack.js';

function thrower(): never {
  const error = new TypeError('boom') as TypeError & { code: string; data: unknown };
  error.code = 'E_FAIL';
  error.data = { detail: [1, 2, 3] };
  throw error;
}

describe('error slot', () => {
  const formats: ErrorFormat[] = ['array', 'map'];
  for (const serverFormat of formats) {
    it(`a '${serverFormat}' server's errors round-trip name, message, code and data`, async () => {
      const [a, b] = createMemoryTransportPair();
      const client = new RpcPeer(a);
      const server = new RpcPeer(b, { errorFormat: serverFormat });
      server.register('fail', thrower);
      await expect(client.call('fail')).rejects.toMatchObject({ name: 'TypeError', message: 'boom', code: 'E_FAIL', data: { detail: [1, 2, 3] } });
      const missing = await client.call('nope').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(RemoteError);
      expect(missing).toMatchObject({ name: 'MethodNotFound', code: RpcErrorCodes.MethodNotFound });
    });
  }

  it("writes [0, message] with the details in the result slot by default, {name, message, ...} with 'map'", async () => {
    for (const [format, expected] of [
      ['array', [1, 5, [0, 'boom'], { name: 'TypeError', message: 'boom', code: 'E_FAIL', data: { detail: [1, 2, 3] } }]],
      ['map', [1, 5, { name: 'TypeError', message: 'boom', code: 'E_FAIL', data: { detail: [1, 2, 3] } }, null]],
    ] as const) {
      const [a, b] = createMemoryTransportPair();
      const server = new RpcPeer(b, { errorFormat: format });
      server.register('fail', thrower);
      const sent: Uint8Array[] = [];
      a.attach({ message: (buf, s, e) => sent.push(buf.slice(s, e)), malformed: () => {}, drain: () => {}, closed: () => {} });
      a.send(Uint8Array.from(handEncode([0, 5, 'fail', []])));
      await new Promise((r) => setTimeout(r, 0));
      const codec = new WireCodec();
      expect(codec.decode(sent[0]!, 0, sent[0]!.length, false)).toEqual(expected);
    }
  });

  it('writes InvalidRequest as a Neovim validation error [1, message]', async () => {
    const [a, b] = createMemoryTransportPair();
    new RpcPeer(b);
    const sent: Uint8Array[] = [];
    a.attach({ message: (buf, s, e) => sent.push(buf.slice(s, e)), malformed: () => {}, drain: () => {}, closed: () => {} });
    a.send(Uint8Array.from(handEncode([0, 6, 42, []])));
    await new Promise((r) => setTimeout(r, 0));
    const [, , error, details] = new WireCodec().decode(sent[0]!, 0, sent[0]!.length, false) as unknown[];
    expect(error).toEqual([1, 'request must be [0, msgid, method: string, params: array]']);
    expect(details).toMatchObject({ name: 'InvalidRequest', code: RpcErrorCodes.InvalidRequest });
  });

  it('still reads every foreign shape', () => {
    expect(remoteErrorFromWire('plain text')).toMatchObject({ name: 'Error', message: 'plain text', code: undefined });
    expect(remoteErrorFromWire([3, 'Invalid buffer id'])).toMatchObject({ name: 'Error', message: 'Invalid buffer id', code: 3 });
    expect(remoteErrorFromWire([0, 'x'], null)).toMatchObject({ message: 'x', code: 0 });
    expect(remoteErrorFromWire([0, 'x'], 'not details')).toMatchObject({ message: 'x', code: 0 });
    expect(remoteErrorFromWire({ message: 'm', code: 7 })).toMatchObject({ name: 'Error', message: 'm', code: 7 });
    expect(remoteErrorFromWire({ name: 'Custom', message: 'm', data: [1] })).toMatchObject({ name: 'Custom', data: [1] });
    expect(remoteErrorFromWire(42)).toMatchObject({ name: 'Error', message: 'remote error', data: 42 });
    expect(remoteErrorFromWire({ no: 'message' })).toMatchObject({ message: 'remote error', data: { no: 'message' } });
  });
});

describe('error texts stay bounded whatever the peer sends', () => {
  it('a huge method name is cut in MethodNotFound; a huge bigint result is not spelled out', async () => {
    const [a, b] = createMemoryTransportPair();
    const client = new RpcPeer(a);
    const server = new RpcPeer(b);
    server.register('big', () => 2n ** 200_000n);
    const missing = (await client.call('m'.repeat(100_000)).catch((e: unknown) => e)) as RemoteError;
    expect(missing.name).toBe('MethodNotFound');
    expect(missing.message.length).toBeLessThan(200);
    const encode = (await client.call('big').catch((e: unknown) => e)) as RemoteError;
    expect(encode).toMatchObject({ name: 'EncodeError', code: RpcErrorCodes.EncodeError });
    expect(encode.message.length).toBeLessThan(400);
  });
});
