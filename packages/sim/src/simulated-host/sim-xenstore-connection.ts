/**
 * A domain's xenstore connection to the sim host: a second socket to host.sock that presents
 * the domain's secret token in one control frame, then speaks plain xs_wire.
 */
import type { Socket } from 'node:net';
import { connectUnixSocket } from './connect-unix-socket.js';
import { XenError, XenStoreClient } from '@xenipc/core';
import { ControlFrameDecoder, encodeControlFrame } from './control-frames.js';
import { hostSocketPath } from './sim-dir.js';


/** A new connection to the host, switched to xs_wire after a one-frame handshake. */
export async function openSimXenStore(dir: string, token: string): Promise<XenStoreClient> {
  const socket = await connectUnixSocket(hostSocketPath(dir));
  const decoder = new ControlFrameDecoder();
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      const [reply] = decoder.push(chunk);
      if (reply === undefined) return;
      socket.removeListener('data', onData);
      if (reply.ok === true) resolve();
      else reject(new XenError({ code: 'EACCES', syscall: 'connect', message: 'the simulated host refused the xenstore connection' }));
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new XenError({ code: 'ECONNRESET', syscall: 'connect', message: 'the simulated host closed the xenstore connection' })));
    socket.write(encodeControlFrame({ id: 0, op: 'xenstore', token }));
  });
  socket.removeAllListeners('close');
  return new XenStoreClient(socket, 'simulated xenstore');
}

