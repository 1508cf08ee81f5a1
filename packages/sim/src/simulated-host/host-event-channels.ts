/**
 * The host's event-channel table (Xen's per-domain port space, 2-level ABI: ports 1..4095).
 * - bindUnbound reserves a port that only `remoteDomid` may connect to;
 * - bindInterdomain fails with ESRCH if that domain does not exist and EINVAL unless the remote
 *   port is unbound and reserved for the caller (evtchn_bind_interdomain);
 * - unbinding (or the death of a domain) puts the other end back to unbound, still reserved for
 *   the domain that left, exactly as evtchn_close does; unbinding a port the caller does not hold
 *   is ENOTCONN (the Linux evtchn driver's answer).
 */
import { type DomId, type EvtchnPort, XenError } from '@xenipc/core';

/** Ports per domain: the 2-level event channel ABI on 64-bit guests has 4096, port 0 is invalid. */
export const PORTS_PER_DOMAIN = 4096;

export interface HostPort {
  readonly domid: DomId;
  readonly port: EvtchnPort;
  state: 'unbound' | 'interdomain';
  remoteDomid: DomId;
  remotePort: EvtchnPort | undefined;
}

export class HostEventChannels {
  readonly #ports = new Map<DomId, Map<EvtchnPort, HostPort>>();
  readonly #cursor = new Map<DomId, EvtchnPort>();

  get(domid: DomId, port: EvtchnPort): HostPort | undefined {
    return this.#ports.get(domid)?.get(port);
  }

  portsOf(domid: DomId): HostPort[] {
    return [...(this.#ports.get(domid)?.values() ?? [])];
  }

  bindUnbound(domid: DomId, remoteDomid: DomId): HostPort {
    return this.#allocate(domid, remoteDomid, 'IOCTL_EVTCHN_BIND_UNBOUND_PORT');
  }

  /** Returns [our new port, the remote port now connected to it]. */
  bindInterdomain(domid: DomId, remoteDomid: DomId, remotePort: EvtchnPort, remoteExists: boolean): [HostPort, HostPort] {
    const syscall = 'IOCTL_EVTCHN_BIND_INTERDOMAIN';
    if (!remoteExists) throw new XenError({ code: 'ESRCH', syscall, message: `cannot bind to port ${remotePort} of domain ${remoteDomid}: no such domain` });
    const remote = this.get(remoteDomid, remotePort);
    if (remote === undefined || remote.state !== 'unbound' || remote.remoteDomid !== domid) {
      throw new XenError({
        code: 'EINVAL',
        syscall,
        message: `cannot bind to port ${remotePort} of domain ${remoteDomid}: it is not an unbound port offered to domain ${domid}`,
      });
    }
    const local = this.#allocate(domid, remoteDomid, syscall);
    local.state = 'interdomain';
    local.remotePort = remote.port;
    remote.state = 'interdomain';
    remote.remotePort = local.port;
    return [local, remote];
  }

  /** Removes the port; returns the other end if it fell back to unbound. */
  unbind(domid: DomId, port: EvtchnPort): HostPort | undefined {
    const local = this.get(domid, port);
    if (local === undefined) {
      throw new XenError({ code: 'ENOTCONN', syscall: 'IOCTL_EVTCHN_UNBIND', message: `port ${port} is not bound by domain ${domid}` });
    }
    this.#ports.get(domid)?.delete(port);
    if (local.state !== 'interdomain' || local.remotePort === undefined) return undefined;
    const remote = this.get(local.remoteDomid, local.remotePort);
    if (remote === undefined || remote.remotePort !== port || remote.remoteDomid !== domid) return undefined;
    remote.state = 'unbound';
    remote.remotePort = undefined;
    return remote;
  }

  /** Domains this table keeps per-domain state for (a port table, a port cursor). */
  domainsWithState(): Set<DomId> {
    return new Set([...this.#ports.keys(), ...this.#cursor.keys()]);
  }

  /** The domain is gone and has no port left: drop its table and cursor. */
  forgetDomain(domid: DomId): void {
    if (this.count(domid) > 0) return;
    this.#ports.delete(domid);
    this.#cursor.delete(domid);
  }

  count(domid: DomId): number {
    return this.#ports.get(domid)?.size ?? 0;
  }

  #allocate(domid: DomId, remoteDomid: DomId, syscall: string): HostPort {
    const table = this.#ports.get(domid) ?? new Map<EvtchnPort, HostPort>();
    this.#ports.set(domid, table);
    if (table.size >= PORTS_PER_DOMAIN - 1) {
      throw new XenError({ code: 'ENOSPC', syscall, message: `domain ${domid} has no free event-channel port (all ${PORTS_PER_DOMAIN - 1} in use)` });
    }
    // Hand out ports round-robin so a just-closed port is not reused at once (fewer stale events).
    let port = this.#cursor.get(domid) ?? 1;
    while (table.has(port)) port = port >= PORTS_PER_DOMAIN - 1 ? 1 : port + 1;
    this.#cursor.set(domid, port >= PORTS_PER_DOMAIN - 1 ? 1 : port + 1);
    const entry: HostPort = { domid, port, state: 'unbound', remoteDomid, remotePort: undefined };
    table.set(port, entry);
    return entry;
  }
}
