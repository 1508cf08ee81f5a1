/**
 * A xenstore connection inside one process: the real xs_wire client (`XenStoreClient`) talking to
 * the simulated xenstored (`XenStoreServer`) through a pair of in-memory streams. The loopback host
 * thus has the same xenstore as the simulated host, byte for byte, with no second model to keep in
 * step.
 */
import { Duplex } from 'node:stream';
import { XenStoreClient } from '@xenipc/core';
import type { XenStoreServer } from '../xenstored/xs-server.js';
import type { XsCaller } from '../xenstored/xs-tree.js';

/** Two connected in-memory duplex streams: what one writes, the other reads. Destroying one ends both. */
export function streamPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (other: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        other().push(chunk);
        callback();
      },
      final(callback) {
        other().push(null);
        callback();
      },
      destroy(err, callback) {
        const peer = other();
        if (!peer.destroyed) peer.destroy();
        callback(err);
      },
    });
  ends.push(make(() => ends[1] as Duplex), make(() => ends[0] as Duplex));
  return [ends[0] as Duplex, ends[1] as Duplex];
}

/** Connect a client of domain `caller.domid` to `server`, in process. */
export function connectInProcess(server: XenStoreServer, caller: XsCaller): XenStoreClient {
  const [clientEnd, serverEnd] = streamPair();
  server.accept(serverEnd, caller);
  return new XenStoreClient(clientEnd, `loopback xenstore of domain ${caller.domid}`);
}
