/**
 * The vchan server: the granting side (libxenvchan_server_init). It allocates the event channel,
 * grants the control page (unmap-notify on srv_live) and the ring pages, writes the header, and
 * publishes ring-ref + event-channel in xenstore for one peer domain.
 */
import {
  type DomId,
  type EventChannel,
  type ForeignMapping,
  type GrantedPages,
  PAGE_SIZE,
  type XenBackend,
  XenError,
} from '@xenipc/core';
import { ChannelClosedError } from './channel-closed-error.js';
import { CleanupStack } from './cleanup-stack.js';
import {
  CLI_LIVE,
  CLI_NOTIFY,
  FLAG_SPEAKS_GOODBYE,
  GRANTS,
  LEFT_ORDER,
  LIVE_CONNECTED,
  LIVE_WAITING,
  NOTIFY_WRITE,
  RIGHT_ORDER,
  SRV_LIVE,
  SRV_NOTIFY,
  controlViews,
  planRings,
  type RingPlacement,
} from './control-page.js';
import { abortReason, invalidArgType } from './argument-errors.js';
import { endRings } from './end-rings.js';
import { checkBackend, checkEndpointOptions } from './endpoint-options.js';
import { VchanAcceptLoop } from './vchan-accept-loop.js';
import { shareAllOrNothing } from './server-grants.js';
import { checkLibxenvchanPath, defaultVchanPath, publishRendezvous, tidyPeerDirectory, vchanPeerDirectory, withdrawRendezvous, type VchanPort } from './rendezvous.js';
import { VchanEndpoint, type EndpointParts, type VchanWaitOptions } from './vchan-endpoint.js';

export interface VchanServerOptions extends VchanWaitOptions {
  /** The client's domain. */
  peer: DomId;
  /** The vchan port name (part of the xenstore path). */
  port: VchanPort;
  /** Minimum size of the ring we read (client -> server, LEFT). Default 64 KiB. */
  readSize?: number;
  /** Minimum size of the ring we write (server -> client, RIGHT). Default 64 KiB. */
  writeSize?: number;
  /** xenstore directory; default /local/domain/<self>/data/vchan/<peer>/<port>. */
  path?: string;
  /**
   * The client may be libxenvchan (default true): refuse a path longer than it can follow
   * (LIBXENVCHAN_MAX_PATH_LENGTH, 49 characters) with a RangeError. false lifts the limit.
   */
  libxenvchanPeer?: boolean;
  /** listen(): resolve only once the client connected (default true). */
  waitForClient?: boolean;
  /** listen(): give up waiting for the client after this long (default: wait forever). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** 64 KiB each way: qrexec's data-channel size; 33 grants per channel. */
export const DEFAULT_RING_SIZE = 64 * 1024;

export class VchanServer extends VchanEndpoint {
  /** The xenstore directory holding ring-ref and event-channel. */
  readonly path: string;
  /** Grant ref of the control page. */
  readonly ringRef: number;
  private connectedPromise: Promise<void> | undefined;

  private constructor(parts: EndpointParts, path: string, ringRef: number) {
    super(parts);
    this.path = path;
    this.ringRef = ringRef;
  }

  /**
   * Create the channel and publish it; by default resolve once the client has connected.
   * A server may write before the client connects (the data waits in the ring).
   */
  static async listen(backend: XenBackend, options: VchanServerOptions): Promise<VchanServer> {
    checkServerArguments(backend, options);
    if (options.signal?.aborted === true) throw abortReason(options.signal);
    const server = await VchanServer.create(backend, options);
    if (options.waitForClient === false) {
      await server.domainWatchStarting; // from here on, the client's domain dying is seen
      return server;
    }
    try {
      await server.whenConnected(options.timeoutMs, options.signal);
    } catch (err) {
      await server.close().catch(() => undefined);
      throw err;
    }
    return server;
  }

  /** Serve one client after another on the same path; see VchanAcceptLoop. */
  static serve(backend: XenBackend, options: Omit<VchanServerOptions, 'waitForClient' | 'signal' | 'timeoutMs'>): VchanAcceptLoop {
    checkServerArguments(backend, options);
    return new VchanAcceptLoop(backend, options);
  }

  private static async create(backend: XenBackend, options: VchanServerOptions): Promise<VchanServer> {
    const plan = planRings(options.readSize ?? DEFAULT_RING_SIZE, options.writeSize ?? DEFAULT_RING_SIZE);
    const path = options.path ?? defaultVchanPath(backend.domid, options.peer, options.port);
    // Only the conventional layout's per-peer directory is ours to tidy; a caller's path is theirs.
    const peerDirectory = options.path === undefined ? vchanPeerDirectory(backend.domid, options.peer) : undefined;
    checkLibxenvchanPath(path, options.libxenvchanPeer);
    const undo = new CleanupStack();
    try {
      const evtchn: EventChannel = await backend.bindUnbound(options.peer);
      undo.push(() => evtchn.close());
      // All pages or none (see server-grants.ts): concurrent listens cannot starve each other.
      const [control, left, right] = await shareAllOrNothing(backend, options.peer, [1, plan.left.pages, plan.right.pages]);
      undo.push(() => control?.close());
      undo.push(() => left?.close());
      undo.push(() => right?.close());
      if (control === undefined) throw new Error('unreachable: the control page is always shared');
      control.setUnmapNotify({ clearByte: SRV_LIVE, sendEvent: evtchn });

      const ringPages: Array<GrantedPages | ForeignMapping> = [];
      const ringData = (p: RingPlacement, pages: GrantedPages | undefined): Uint8Array => {
        if (pages === undefined) return new Uint8Array(control.buffer, p.inPageOffset ?? 0, p.bytes);
        ringPages.push(pages);
        return new Uint8Array(pages.buffer, 0, p.bytes);
      };
      const leftData = ringData(plan.left, left);
      const leftRefs = left?.refs ?? [];
      const rightData = ringData(plan.right, right);
      const rightRefs = right?.refs ?? [];

      // The header, as libxenvchan's init_gnt_srv writes it (the page starts zeroed).
      const views = controlViews(control.buffer);
      new Uint8Array(control.buffer, 0, PAGE_SIZE).fill(0, 0, GRANTS);
      views.view.setUint16(LEFT_ORDER, plan.left.order, true);
      views.view.setUint16(RIGHT_ORDER, plan.right.order, true);
      let g = GRANTS;
      for (const ref of [...leftRefs, ...rightRefs]) {
        views.view.setUint32(g, ref, true);
        g += 4;
      }
      views.bytes[CLI_LIVE] = LIVE_WAITING;
      views.bytes[SRV_LIVE] = LIVE_CONNECTED;
      views.bytes[CLI_NOTIFY] = NOTIFY_WRITE;
      Atomics.store(views.bytes, SRV_NOTIFY, FLAG_SPEAKS_GOODBYE);

      const rings = endRings('server', views, leftData, rightData, evtchn);

      await publishRendezvous(backend.xenstore, backend.domid, path, options.peer, control.refs[0] ?? 0, evtchn.localPort);
      undo.push(
        () =>
          void withdrawRendezvous(backend.xenstore, path)
            .then(() => (peerDirectory === undefined ? undefined : tidyPeerDirectory(backend.xenstore, peerDirectory)))
            .catch(() => undefined),
      );

      return new VchanServer(
        {
          role: 'server',
          backend,
          peer: options.peer,
          evtchn,
          control,
          ringPages,
          views,
          ...rings,
          spinMicros: options.spinMicros,
          xenstorePath: path,
          xenstorePeerDirectory: peerDirectory,
        },
        path,
        control.refs[0] ?? 0,
      );
    } catch (err) {
      undo.unwind();
      throw err;
    }
  }

  /** Resolves when the client has connected (at once if it already has); rejects with
   * XenError ETIMEDOUT after timeoutMs, with `signal.reason` when aborted. */
  whenConnected(timeoutMs?: number, signal?: AbortSignal): Promise<void> {
    this.checkPeer();
    if (this.isOpen) return Promise.resolve();
    if (this.closeReason !== undefined) return Promise.reject(new ChannelClosedError(this.closeReason));
    this.connectedPromise ??= new Promise<void>((resolve, reject) => {
      const onConnect = (): void => {
        this.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.off('connect', onConnect);
        reject(new ChannelClosedError(this.closeReason ?? 'closed', 'before a client connected'));
      };
      this.once('connect', onConnect);
      this.once('close', onClose);
    });
    if (timeoutMs === undefined && signal === undefined) return this.connectedPromise;
    return new Promise<void>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () => reject(new XenError({ code: 'ETIMEDOUT', syscall: 'vchan listen', message: `no client connected to ${this.path} within ${timeoutMs} ms`, path: this.path })),
              timeoutMs,
            );
      const onAbort = (): void => reject(abortReason(signal as AbortSignal));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted === true) onAbort();
      (this.connectedPromise as Promise<void>).then(resolve, reject).finally(() => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      });
    });
  }
}

/** Bad arguments fail before anything is granted or published. */
function checkServerArguments(backend: unknown, options: VchanServerOptions): void {
  checkBackend(backend);
  checkEndpointOptions(options);
  planRings(options.readSize ?? DEFAULT_RING_SIZE, options.writeSize ?? DEFAULT_RING_SIZE);
  if (options.waitForClient !== undefined && typeof options.waitForClient !== 'boolean') {
    throw invalidArgType('options.waitForClient', 'of type boolean', options.waitForClient);
  }
}
