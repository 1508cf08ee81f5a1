/**
 * Argument checks at the public entries that open an endpoint (VchanServer.listen / serve,
 * VchanClient.connect): done before anything is allocated, so a bad call fails at once with a
 * Node-style code instead of waiting out a timeout on `/local/domain/undefined/...`.
 */
import { DOMID_MAX, type XenBackend } from '@xenipc/core';
import { checkInteger, checkSignal, invalidArgType, outOfRange } from './argument-errors.js';
import { defaultVchanPath, type VchanPort } from './rendezvous.js';

/** Longest spin budget accepted (1 s: anything near it blocks the event loop for that long). */
const MAX_SPIN_MICROS = 1_000_000;
/** setTimeout's limit. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface CheckedOptions {
  peer: number;
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
  spinMicros: number | undefined;
}

export function checkBackend(backend: unknown): XenBackend {
  const b = backend as Partial<XenBackend> | null;
  if (typeof b !== 'object' || b === null || typeof b.share !== 'function' || typeof b.map !== 'function' || typeof b.xenstore !== 'object') {
    throw invalidArgType('backend', 'a XenBackend (openXenBackend(), joinSimulatedHost(), createLoopbackHost().domain(n))', backend);
  }
  return b as XenBackend;
}

/** The options every endpoint takes: `peer`, `port`, `path?`, `timeoutMs?`, `signal?`, `spinMicros?`. */
export function checkEndpointOptions(options: unknown): CheckedOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
  const o = options as Record<string, unknown>;
  const peer = checkInteger('options.peer', o['peer'], 0, DOMID_MAX);
  checkPort(o['port']);
  if (o['path'] !== undefined && typeof o['path'] !== 'string') throw invalidArgType('options.path', 'of type string', o['path']);
  const timeoutMs = o['timeoutMs'] === undefined ? undefined : checkInteger('options.timeoutMs', o['timeoutMs'], 0, MAX_TIMEOUT_MS);
  const signal = checkSignal('options.signal', o['signal']);
  let spinMicros: number | undefined;
  if (o['spinMicros'] !== undefined) {
    const v = o['spinMicros'];
    if (typeof v !== 'number') throw invalidArgType('options.spinMicros', 'of type number', v);
    if (!(v >= 0 && v <= MAX_SPIN_MICROS)) throw outOfRange('options.spinMicros', `>= 0 and <= ${MAX_SPIN_MICROS}`, v);
    spinMicros = v;
  }
  return { peer, timeoutMs, signal, spinMicros };
}

function checkPort(port: unknown): asserts port is VchanPort {
  if (typeof port === 'number') {
    if (!Number.isInteger(port) || port < 0) throw outOfRange('options.port', 'a non-negative integer (or a name)', port);
    return;
  }
  if (typeof port !== 'string') throw invalidArgType('options.port', 'of type string or number', port);
  try {
    defaultVchanPath(0, 0, port);
  } catch (err) {
    // The rendezvous owns the rule for names; give its message a Node-style code.
    const coded = err as Error & { code?: string };
    coded.code ??= 'ERR_INVALID_ARG_VALUE';
    throw coded;
  }
}
