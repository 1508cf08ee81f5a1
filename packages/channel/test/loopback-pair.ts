/** A connected server (domain 1) / client (domain 2) pair on a fresh loopback host. */
import { createLoopbackHost, type LoopbackBackend, type LoopbackHost } from '@xenipc/sim';
import { VchanClient, VchanServer } from '@xenipc/channel';

export interface Pair {
  host: LoopbackHost;
  serverBackend: LoopbackBackend;
  clientBackend: LoopbackBackend;
  server: VchanServer;
  client: VchanClient;
}

let nextPort = 1;

export async function loopbackPair(sizes: { readSize?: number; writeSize?: number; spinMicros?: number } = {}): Promise<Pair> {
  const host = createLoopbackHost();
  const serverBackend = host.domain(1);
  const clientBackend = host.domain(2);
  const port = nextPort++;
  const [server, client] = await Promise.all([
    VchanServer.listen(serverBackend, { peer: 2, port, ...sizes }),
    VchanClient.connect(clientBackend, { peer: 1, port }),
  ]);
  return { host, serverBackend, clientBackend, server, client };
}

export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Deterministic bytes (xorshift) so both ends can check a transfer without keeping it. */
export function patternBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
