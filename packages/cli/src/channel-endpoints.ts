/**
 * Opening one channel for the commands: as the listener (the vchan server, which grants the
 * memory) or as the connector (the vchan client, which maps it), wrapped in a byte stream.
 */
import type { Duplex } from 'node:stream';
import { controlPage, VchanClient, VchanServer, VchanStream } from '@xenipc/channel';
import type { DomId, XenBackend } from '@xenipc/core';
import { UsageError } from './usage-error.js';

export interface ChannelEndpoint {
  peer: DomId;
  /** vchan port: the last component of the xenstore path the two sides meet at. */
  port: string;
  /** Bytes of each ring (listener only; the connector uses what the listener chose). */
  ringSize?: number;
  /** Busy-poll microseconds before sleeping on an event (default: the channel's). */
  spinMicros?: number;
}

export const PORT_HELP = `  <port>             channel name, 1-64 of A-Z a-z 0-9 _ - (xenstore:
                     /local/domain/<listener>/data/vchan/<connector>/<port>)`;

export function checkPortName(port: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(port)) throw new UsageError(`<port> must be 1-64 characters of A-Z a-z 0-9 _ -, got ${JSON.stringify(port)}`);
  return port;
}

/** The ring sizes the library accepts (bytes): 2^MIN_ORDER .. 2^MAX_ORDER, from @xenipc/channel itself. */
export const RING_SIZE_LIMITS: { readonly min: number; readonly max: number } = {
  min: 2 ** controlPage.MIN_ORDER,
  max: controlPage.MAX_RING_BYTES,
};

/** A ring size the library takes as it is: a power of two within RING_SIZE_LIMITS. */
export function checkRingSize(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < RING_SIZE_LIMITS.min || bytes > RING_SIZE_LIMITS.max) {
    throw new UsageError(`--ring-size must be between ${RING_SIZE_LIMITS.min} and ${RING_SIZE_LIMITS.max}, got ${bytes}`);
  }
  if ((bytes & (bytes - 1)) !== 0) throw new UsageError(`--ring-size must be a power of two, got ${bytes}`);
  return bytes;
}

/**
 * Publish a channel for `endpoint.peer` (the vchan server side) without waiting for it; the
 * returned server's whenConnected() resolves once the peer is there.
 */
export async function publishChannel(backend: XenBackend, endpoint: ChannelEndpoint): Promise<VchanServer> {
  const port = checkPortName(endpoint.port);
  return VchanServer.listen(backend, {
    peer: endpoint.peer,
    port,
    waitForClient: false,
    ...(endpoint.ringSize === undefined ? {} : { readSize: endpoint.ringSize, writeSize: endpoint.ringSize }),
    ...(endpoint.spinMicros === undefined ? {} : { spinMicros: endpoint.spinMicros }),
  });
}

/**
 * Publish the channel and wait (until `signal`) for the peer to connect. `onListening` runs
 * once the channel is published, i.e. when a connector could succeed.
 */
export async function acceptChannel(backend: XenBackend, endpoint: ChannelEndpoint, signal: AbortSignal, onListening?: () => void): Promise<VchanServer> {
  const server = await publishChannel(backend, endpoint);
  try {
    onListening?.();
    await server.whenConnected(undefined, signal);
  } catch (err) {
    await server.close().catch(() => undefined);
    throw err;
  }
  return server;
}

/** Connect to a listening peer, waiting up to `timeoutMs` for it to appear (0: it must be there). */
export async function connectChannel(backend: XenBackend, endpoint: ChannelEndpoint, signal: AbortSignal, timeoutMs: number): Promise<VchanClient> {
  return VchanClient.connect(backend, {
    peer: endpoint.peer,
    port: checkPortName(endpoint.port),
    timeoutMs,
    signal,
    ...(endpoint.spinMicros === undefined ? {} : { spinMicros: endpoint.spinMicros }),
  });
}

/** acceptChannel, as a byte stream. */
export async function acceptChannelStream(backend: XenBackend, endpoint: ChannelEndpoint, signal: AbortSignal, onListening?: () => void): Promise<Duplex> {
  return new VchanStream(await acceptChannel(backend, endpoint, signal, onListening));
}

/** connectChannel, as a byte stream. */
export async function connectChannelStream(backend: XenBackend, endpoint: ChannelEndpoint, signal: AbortSignal, timeoutMs: number): Promise<Duplex> {
  return new VchanStream(await connectChannel(backend, endpoint, signal, timeoutMs));
}
