import { connect, type Socket } from 'node:net';

/** Connect to a Unix socket; rejects with the raw error (ENOENT, ECONNREFUSED...) for callers to explain. */
export function connectUnixSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
