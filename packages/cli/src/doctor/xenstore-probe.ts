/**
 * "Does xenstore answer?" One XS_READ of our own `domid` key over the xs_wire protocol
 * (16-byte header {type, req_id, tx_id, len} + payload), to the first xenstore endpoint that
 * exists: $XENSTORED_PATH, the daemon socket (dom0), /dev/xen/xenbus, /proc/xen/xenbus -- the
 * order libxenstore uses. Self-contained on purpose: doctor must work when the rest of xenipc
 * (or the addon) is what is broken.
 */
import { open, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import type { HostRoot } from './host-root.js';

const XS_READ = 2;
const XS_ERROR = 16;
const HEADER_BYTES = 16;
/** xenstored never sends more than this in one payload. */
const MAX_PAYLOAD = 4096;

export type XenstoreProbeResult =
  | { answered: true; endpoint: string; domid?: number; error?: string }
  | { answered: false; endpoint?: string; reason: string };

export function xenstoreEndpoints(root: HostRoot, env: NodeJS.ProcessEnv): string[] {
  const fromEnv = env['XENSTORED_PATH'];
  return [
    ...(fromEnv ? [fromEnv] : []),
    root.path('/var/run/xenstored/socket'),
    root.path('/run/xenstored/socket'),
    root.path('/dev/xen/xenbus'),
    root.path('/proc/xen/xenbus'),
  ];
}

function readRequest(path: string): Buffer {
  const payload = Buffer.from(`${path}\0`);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(XS_READ, 0);
  header.writeUInt32LE(0x7e_1b_c0_01, 4); // req_id: echoed back, any value
  header.writeUInt32LE(0, 8); // no transaction
  header.writeUInt32LE(payload.length, 12);
  return Buffer.concat([header, payload]);
}

/** Parse one reply; undefined while incomplete. Throws on a malformed one. */
function parseReply(bytes: Buffer): { type: number; body: string } | undefined {
  if (bytes.length < HEADER_BYTES) return undefined;
  const type = bytes.readUInt32LE(0);
  const len = bytes.readUInt32LE(12);
  if (len > MAX_PAYLOAD) throw new Error(`reply claims a ${len}-byte payload (xenstore's limit is ${MAX_PAYLOAD})`);
  if (bytes.length < HEADER_BYTES + len) return undefined;
  return { type, body: bytes.subarray(HEADER_BYTES, HEADER_BYTES + len).toString('utf8').replace(/\0+$/, '') };
}

function toResult(endpoint: string, reply: { type: number; body: string }): XenstoreProbeResult {
  if (reply.type === XS_ERROR) return { answered: true, endpoint, error: reply.body };
  if (reply.type !== XS_READ) return { answered: false, endpoint, reason: `unexpected reply type ${reply.type}` };
  const domid = /^\d+$/.test(reply.body) ? Number(reply.body) : undefined;
  return domid === undefined ? { answered: true, endpoint } : { answered: true, endpoint, domid };
}

async function askOverSocket(endpoint: string, timeoutMs: number): Promise<XenstoreProbeResult> {
  return new Promise((resolve) => {
    const socket = connect(endpoint);
    let received = Buffer.alloc(0);
    const finish = (result: XenstoreProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ answered: false, endpoint, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.on('connect', () => socket.write(readRequest('domid')));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        const reply = parseReply(received);
        if (reply) finish(toResult(endpoint, reply));
      } catch (err) {
        finish({ answered: false, endpoint, reason: (err as Error).message });
      }
    });
    socket.on('error', (err) => finish({ answered: false, endpoint, reason: err.message }));
    socket.on('close', () => finish({ answered: false, endpoint, reason: 'connection closed without an answer' }));
  });
}

/**
 * The xenbus device: write one request, read the reply. A read on a silent device blocks a
 * libuv worker thread that cannot be cancelled, so the timeout abandons it; the doctor command
 * exits explicitly afterwards.
 */
async function askOverDevice(endpoint: string, timeoutMs: number): Promise<XenstoreProbeResult> {
  const file = await open(endpoint, 'r+');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<XenstoreProbeResult>((resolve) => {
    timer = setTimeout(() => resolve({ answered: false, endpoint, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const exchange = (async (): Promise<XenstoreProbeResult> => {
    await file.write(readRequest('domid'));
    const buffer = Buffer.alloc(HEADER_BYTES + MAX_PAYLOAD);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) return { answered: false, endpoint, reason: 'end of file instead of an answer' };
      filled += bytesRead;
      const reply = parseReply(buffer.subarray(0, filled));
      if (reply) return toResult(endpoint, reply);
    }
  })().catch((err: Error): XenstoreProbeResult => ({ answered: false, endpoint, reason: err.message }));
  try {
    return await Promise.race([exchange, timeout]);
  } finally {
    clearTimeout(timer);
    void file.close().catch(() => undefined);
  }
}

export async function probeXenstore(root: HostRoot, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<XenstoreProbeResult> {
  for (const endpoint of xenstoreEndpoints(root, env)) {
    const info = await stat(endpoint).catch(() => undefined);
    if (!info) continue;
    try {
      return info.isSocket() ? await askOverSocket(endpoint, timeoutMs) : await askOverDevice(endpoint, timeoutMs);
    } catch (err) {
      return { answered: false, endpoint, reason: (err as Error).message };
    }
  }
  return { answered: false, reason: 'no xenstore endpoint exists (no xenstored socket, no /dev/xen/xenbus, no /proc/xen/xenbus)' };
}
