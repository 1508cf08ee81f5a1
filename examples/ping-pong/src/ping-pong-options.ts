/**
 * The ping-pong command line. One parser for all three ways to run it: the launcher (no --role,
 * runs both domains on a private simulated host), and each role on its own (real Xen: one
 * process in each domain).
 */
import { parseArgs } from 'node:util';
import type { BackendRequest } from '@xenipc/sim';

export type Role = 'server' | 'client';
export type BackendKind = 'sim' | 'xen';
export type Phase = 'channel' | 'rpc';

export interface PingPongOptions {
  role: Role | undefined;
  backend: BackendKind | undefined;
  /** The other domain; required with --role. */
  peer: number | undefined;
  /** Our own domid on a simulated host (real Xen tells us ours). */
  domid: number | undefined;
  simDir: string | undefined;
  /** Channel name the two sides meet on; the RPC phase uses `<port>-rpc`. */
  port: string;
  count: number;
  warmup: number;
  /** Payload bytes per ping. */
  size: number;
  /** Bytes of each ring (one per direction); a power of two. */
  ringSize: number;
  /** Busy-poll up to this many microseconds before sleeping on an event (0 = never spin);
   * undefined: the channel's default. */
  spinMicros: number | undefined;
  /** Messages in flight in the pipelined throughput run. */
  window: number;
  phases: Phase[];
  /** How long the client keeps retrying to reach the server, in ms. */
  connectTimeoutMs: number;
  json: boolean;
  help: boolean;
}

export const USAGE = `Usage:
  pnpm ping-pong [options]                                  both domains on a private simulated host
  node examples/ping-pong/dist/main.js --role server --peer <client-domid> [--backend xen] [options]
  node examples/ping-pong/dist/main.js --role client --peer <server-domid> [--backend xen] [options]

Options:
  --count <n>         round trips per phase (default 10000)
  --warmup <n>        untimed round trips first (default count/10, at most 1000)
  --size <bytes>      payload per message (default 64)
  --ring-size <bytes> each ring, a power of two from 1024 (default 65536)
  --spin <us>         busy-poll up to <us> microseconds before sleeping on an event
                      (default: the channel's, 20 on Xen and the simulated host; 0 = never)
  --window <n>        messages in flight in the throughput run (default 64)
  --phases <list>     channel,rpc (default both)
  --port <name>       channel name to meet on (default ping-pong)
  --backend sim|xen   default: xen if /dev/xen/gntalloc exists, else sim (launcher: always sim)
  --peer <domid>      the other domain (with --role)
  --domid <domid>     our own domid on a simulated host
  --sim-dir <dir>     simulated host directory (env XENIPC_SIM_DIR)
  --connect-timeout <ms>  how long the client waits for the server (default 30000)
  --json              print the results as one JSON object
  -h, --help          this text`;

export class OptionsError extends Error {
  override readonly name = 'OptionsError';
}

function integer(text: string | undefined, what: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new OptionsError(`${what} must be an integer, got ${JSON.stringify(text)}`);
  const value = Number(text);
  if (value < min || value > max) throw new OptionsError(`${what} must be from ${min} to ${max}, got ${value}`);
  return value;
}

export function parsePingPongOptions(args: readonly string[], env: NodeJS.ProcessEnv = process.env): PingPongOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        role: { type: 'string' },
        backend: { type: 'string' },
        peer: { type: 'string' },
        domid: { type: 'string' },
        'sim-dir': { type: 'string' },
        port: { type: 'string' },
        count: { type: 'string' },
        warmup: { type: 'string' },
        size: { type: 'string' },
        'ring-size': { type: 'string' },
        spin: { type: 'string' },
        window: { type: 'string' },
        phases: { type: 'string' },
        'connect-timeout': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  const v = parsed.values;
  const role = v.role;
  if (role !== undefined && role !== 'server' && role !== 'client') throw new OptionsError(`--role must be server or client, got ${JSON.stringify(role)}`);
  const backend = v.backend;
  if (backend !== undefined && backend !== 'sim' && backend !== 'xen') throw new OptionsError(`--backend must be sim or xen, got ${JSON.stringify(backend)}`);
  const count = integer(v.count, '--count', 10_000, 1, 100_000_000);
  const ringSize = integer(v['ring-size'], '--ring-size', 65_536, 1024, 1 << 24);
  if ((ringSize & (ringSize - 1)) !== 0) throw new OptionsError(`--ring-size must be a power of two, got ${ringSize}`);
  const phases = (v.phases ?? 'channel,rpc').split(',').map((p) => p.trim());
  for (const p of phases) if (p !== 'channel' && p !== 'rpc') throw new OptionsError(`--phases takes channel and/or rpc, got ${JSON.stringify(p)}`);
  const options: PingPongOptions = {
    role,
    backend,
    peer: v.peer === undefined ? undefined : integer(v.peer, '--peer', 0, 0, 0x7fef),
    domid: v.domid === undefined ? undefined : integer(v.domid, '--domid', 0, 0, 0x7fef),
    simDir: v['sim-dir'] ?? env['XENIPC_SIM_DIR'],
    port: v.port ?? 'ping-pong',
    count,
    warmup: integer(v.warmup, '--warmup', Math.min(1000, Math.floor(count / 10)), 0, 100_000_000),
    size: integer(v.size, '--size', 64, 0, 1 << 24),
    ringSize,
    spinMicros: v.spin === undefined ? undefined : integer(v.spin, '--spin', 0, 0, 1_000_000),
    window: integer(v.window, '--window', 64, 1, 1 << 16),
    phases: phases as Phase[],
    connectTimeoutMs: integer(v['connect-timeout'], '--connect-timeout', 30_000, 1, 3_600_000),
    json: v.json ?? false,
    help: v.help ?? false,
  };
  if (role !== undefined && options.peer === undefined) throw new OptionsError(`--role ${role} needs --peer <domid> (the other domain)`);
  if (!/^[A-Za-z0-9_-]{1,60}$/.test(options.port)) throw new OptionsError(`--port must be 1-60 characters of A-Z a-z 0-9 _ -, got ${JSON.stringify(options.port)}`);
  return options;
}

/** Each phase has its own channel: `<port>` for the message channel, `<port>-rpc` for RPC. */
export function phasePort(port: string, phase: Phase): string {
  return phase === 'channel' ? port : `${port}-rpc`;
}

/** The request @xenipc/sim's chooseBackend() reads. */
export function backendRequest(options: PingPongOptions): BackendRequest {
  return { backend: options.backend, simDir: options.simDir, domid: options.domid };
}
