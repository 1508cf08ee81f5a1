/** getSimLedger(): what a simulated host currently holds per domain, from any process. */
import { connect } from 'node:net';
import { XenError } from '@xenipc/core';
import { HostConnection } from './host-connection.js';
import type { SimLedger } from './host-protocol.js';
import { hostSocketPath, defaultSimDir } from './sim-dir.js';

export async function getSimLedger(dir: string = defaultSimDir()): Promise<SimLedger> {
  const path = hostSocketPath(dir);
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (cause) =>
      reject(new XenError({ code: (cause as NodeJS.ErrnoException).code ?? 'EIO', syscall: 'connect', path, message: `no simulated host at ${path}`, cause })));
  });
  const connection = new HostConnection(socket);
  try {
    return (await connection.request<{ ledger: SimLedger }>('ledger')).ledger;
  } finally {
    connection.close();
  }
}
