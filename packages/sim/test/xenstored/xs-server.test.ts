/** The simulated xenstored on a bare stream: framing errors drop the connection, bad requests get errno replies. */
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { XenStoreClient } from '@xenipc/core';
import { encodeXsMessage, nulTerminated, XsFrameDecoder, XsMessageType } from '@xenipc/core/backend-kit';
import { streamPair, XenStoreServer } from '@xenipc/sim';

function serve(domid = 1): { server: XenStoreServer; client: Duplex; serverEnd: Duplex } {
  const server = new XenStoreServer();
  server.introduceDomain(domid);
  const [client, serverEnd] = streamPair();
  server.accept(serverEnd, { domid, privileged: domid === 0 });
  return { server, client, serverEnd };
}

async function request(client: Duplex, type: number, payload: Buffer, txId = 0): Promise<{ type: number; text: string }> {
  const decoder = new XsFrameDecoder();
  client.write(encodeXsMessage(type, 42, txId, payload));
  for (;;) {
    const [chunk] = (await once(client, 'data')) as [Buffer];
    const [message] = decoder.push(chunk);
    if (message !== undefined) return { type: message.type, text: message.payload.toString() };
  }
}

describe('simulated xenstored on the wire', () => {
  it('answers requests with the reply type, req_id echoed, errors as errno strings', async () => {
    const { client } = serve();
    expect(await request(client, XsMessageType.WRITE, Buffer.from('data/k\0v'))).toEqual({ type: XsMessageType.WRITE, text: 'OK\0' });
    expect(await request(client, XsMessageType.READ, nulTerminated('data/k'))).toEqual({ type: XsMessageType.READ, text: 'v' });
    expect(await request(client, XsMessageType.READ, nulTerminated('data/none'))).toEqual({ type: XsMessageType.ERROR, text: 'ENOENT\0' });
    expect(await request(client, XsMessageType.READ, nulTerminated('/local/domain/0'))).toEqual({ type: XsMessageType.ERROR, text: 'EACCES\0' });
    expect(await request(client, XsMessageType.WRITE, Buffer.from('no-nul'))).toEqual({ type: XsMessageType.ERROR, text: 'EINVAL\0' });
    expect(await request(client, XsMessageType.INTRODUCE, nulTerminated('1'))).toEqual({ type: XsMessageType.ERROR, text: 'ENOSYS\0' });
    expect(await request(client, XsMessageType.READ, nulTerminated('data/k'), 77)).toEqual({ type: XsMessageType.ERROR, text: 'ENOENT\0' });
    expect(await request(client, XsMessageType.GET_DOMAIN_PATH, nulTerminated('x'))).toEqual({ type: XsMessageType.ERROR, text: 'EINVAL\0' });
  });

  it('a garbage header or an oversize length closes the connection; other connections are unaffected', async () => {
    const { server, serverEnd, client } = serve();
    const garbage = Buffer.alloc(16);
    garbage.writeUInt32LE(0xdead, 0);
    client.write(garbage);
    await once(serverEnd, 'close');
    const [other, otherServer] = streamPair();
    server.accept(otherServer, { domid: 1, privileged: false });
    const store = new XenStoreClient(other);
    await store.write('data/x', 'y');
    expect(await store.read('data/x')).toBe('y');
    const [third, thirdServer] = streamPair();
    server.accept(thirdServer, { domid: 1, privileged: false });
    const huge = Buffer.alloc(16);
    huge.writeUInt32LE(XsMessageType.WRITE, 0);
    huge.writeUInt32LE(5000, 12);
    third.write(huge);
    await once(thirdServer, 'close');
  });

  it('the client rejects pending requests when the server sends garbage', async () => {
    const [client, serverEnd] = streamPair();
    const store = new XenStoreClient(client, 'test stream');
    const pending = store.read('data/x');
    serverEnd.write(Buffer.alloc(16, 0xff));
    await expect(pending).rejects.toMatchObject({ code: 'EPROTO' });
    await expect(store.read('data/x')).rejects.toMatchObject({ code: 'ENOTCONN' });
  });

  it('a request too large for xs_wire is refused by the client (E2BIG) without sending it', async () => {
    const [client] = streamPair();
    const store = new XenStoreClient(client);
    await expect(store.write('data/big', 'x'.repeat(5000))).rejects.toMatchObject({ code: 'E2BIG' });
  });
});
