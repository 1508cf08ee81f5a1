/**
 * The vchan client: the mapping side (libxenvchan_client_init). It finds the server's ring-ref
 * and event-channel in xenstore, binds the port, maps the control page (unmap-notify on
 * cli_live), validates the orders the (untrusted) server wrote, maps the rings -- the one it
 * reads read-only -- and announces itself with cli_live = 1 and one event.
 */
import { type DomId, type ForeignMapping, type XenBackend, XenError } from '@xenipc/core';
import { CleanupStack } from './cleanup-stack.js';
import {
  CLI_LIVE,
  CLI_NOTIFY,
  FLAG_SAID_GOODBYE,
  FLAG_SPEAKS_GOODBYE,
  GRANTS,
  LEFT_ORDER,
  LIVE_CONNECTED,
  LIVE_GONE,
  NOTIFY_WRITE,
  RIGHT_ORDER,
  SRV_LIVE,
  SRV_NOTIFY,
  controlViews,
  placementForOrder,
  rejectOrders,
  type RingPlacement,
} from './control-page.js';
import { abortReason } from './argument-errors.js';
import { endRings } from './end-rings.js';
import { checkBackend, checkEndpointOptions } from './endpoint-options.js';
import { awaitRendezvous, checkLibxenvchanPath, defaultVchanPath, type VchanPort } from './rendezvous.js';
import { VchanEndpoint, type EndpointParts, type VchanWaitOptions } from './vchan-endpoint.js';

export interface VchanClientOptions extends VchanWaitOptions {
  /** The server's domain. */
  peer: DomId;
  port: VchanPort;
  /** xenstore directory; default /local/domain/<peer>/data/vchan/<self>/<port>. */
  path?: string;
  /**
   * The server may be libxenvchan (default true): refuse a path longer than it can follow
   * (LIBXENVCHAN_MAX_PATH_LENGTH, 49 characters) with a RangeError. false lifts the limit.
   */
  libxenvchanPeer?: boolean;
  /** How long to wait for the server to appear (default 10 000 ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

function protocolError(message: string, path: string): XenError {
  return new XenError({ code: 'EPROTO', syscall: 'vchan connect', message, path });
}

export class VchanClient extends VchanEndpoint {
  readonly path: string;

  private constructor(parts: EndpointParts, path: string) {
    super(parts);
    this.path = path;
    this.checkPeer();
  }

  /**
   * Find the server's channel in xenstore and connect to it. Rejects at once for bad arguments
   * (ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE), with `signal.reason` when aborted, and with
   * XenError ETIMEDOUT when no server appears within timeoutMs.
   */
  static async connect(backend: XenBackend, options: VchanClientOptions): Promise<VchanClient> {
    checkBackend(backend);
    const { peer, timeoutMs, signal } = checkEndpointOptions(options);
    if (signal?.aborted === true) throw abortReason(signal);
    const path = options.path ?? defaultVchanPath(peer, backend.domid, options.port);
    checkLibxenvchanPath(path, options.libxenvchanPeer);
    let found: { ringRef: number; eventChannel: number };
    try {
      found = await awaitRendezvous(backend.xenstore, path, timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, signal);
    } catch (err) {
      // awaitRendezvous reports an abort as ECANCELED; Node's convention is the signal's reason.
      if (signal !== undefined && isAborted(signal)) throw abortReason(signal);
      throw err;
    }
    const { ringRef, eventChannel } = found;
    const undo = new CleanupStack();
    try {
      const evtchn = await backend.bindInterdomain(options.peer, eventChannel);
      undo.push(() => evtchn.close());
      const control = await backend.map(options.peer, [ringRef], { writable: true });
      undo.push(() => control.close());
      control.setUnmapNotify({ clearByte: CLI_LIVE, sendEvent: evtchn });
      const views = controlViews(control.buffer);

      // Read what the server wrote ONCE; never re-read orders or grants afterwards.
      const leftOrder = views.view.getUint16(LEFT_ORDER, true);
      const rightOrder = views.view.getUint16(RIGHT_ORDER, true);
      const rejected = rejectOrders(leftOrder, rightOrder);
      if (rejected !== undefined) throw protocolError(`the server's control page is invalid: ${rejected}`, path);
      const left = placementForOrder(leftOrder);
      const right = placementForOrder(rightOrder);
      const grants: number[] = [];
      for (let i = 0; i < left.pages + right.pages; i++) grants.push(views.view.getUint32(GRANTS + 4 * i, true));
      if (Atomics.load(views.bytes, SRV_LIVE) === LIVE_GONE) {
        throw new XenError({ code: 'ECONNREFUSED', syscall: 'vchan connect', message: `the vchan server at ${path} has already closed`, path });
      }

      const ringPages: ForeignMapping[] = [];
      const mapRing = async (p: RingPlacement, refs: number[], writable: boolean): Promise<Uint8Array> => {
        if (p.inPageOffset !== undefined) return new Uint8Array(control.buffer, p.inPageOffset, p.bytes);
        const mapping = await backend.map(options.peer, refs, { writable });
        undo.push(() => mapping.close());
        ringPages.push(mapping);
        return new Uint8Array(mapping.buffer, 0, p.bytes);
      };
      // We write LEFT (read-write) and read RIGHT (read-only), as libxenvchan's init_gnt_cli.
      const leftData = await mapRing(left, grants.slice(0, left.pages), true);
      const rightData = await mapRing(right, grants.slice(left.pages), false);

      const rings = endRings('client', views, leftData, rightData, evtchn);

      // Announce: our flags (a stale goodbye from a previous client is cleared), live = 1, ask to
      // be told of writes, one event so the server notices before any data (libxenvchan dae8449).
      Atomics.and(views.bytes, CLI_NOTIFY, ~FLAG_SAID_GOODBYE & 0xff);
      Atomics.or(views.bytes, CLI_NOTIFY, FLAG_SPEAKS_GOODBYE);
      Atomics.store(views.bytes, CLI_LIVE, LIVE_CONNECTED);
      Atomics.or(views.bytes, SRV_NOTIFY, NOTIFY_WRITE);
      evtchn.notify();

      return new VchanClient(
        {
          role: 'client',
          backend,
          peer: options.peer,
          evtchn,
          control,
          ringPages,
          views,
          ...rings,
          spinMicros: options.spinMicros,
          xenstorePath: undefined,
          xenstorePeerDirectory: undefined,
        },
        path,
      );
    } catch (err) {
      undo.unwind();
      throw err;
    }
  }
}

/** Read through a call: TypeScript narrows `signal.aborted` to false across the await above. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
