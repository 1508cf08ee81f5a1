/**
 * What MessageChannel and VchanStream need from a VchanEndpoint beyond its public API: the raw
 * ring sides and the waiting machinery. Not part of the public class: each endpoint registers
 * its handle here when it is built, and a channel looks it up ONCE when it is made (no cost per
 * message). index.ts does not export this module, so an application cannot reach the rings.
 */
import { invalidArgType } from './argument-errors.js';
import type { RingConsumer, RingProducer } from './ring.js';

export interface EndpointHandle {
  /** The side of the ring we read. Touch only while `released` is false. */
  readonly consumer: RingConsumer;
  /** The side of the ring we write. Touch only while `released` is false (and the end is not known). */
  readonly producer: RingProducer;
  /** True once the shared pages are let go of: the ring sides must not be used any more. */
  readonly released: boolean;
  /** True if waits spin before sleeping (spinMicros > 0). */
  readonly spinEnabled: boolean;
  /** Spin re-checking `ready` within the endpoint's adaptive budget; true if it became ready. */
  spin(ready: () => boolean): boolean;
  /** Ask the peer for an event when it writes (the caller re-checks the ring afterwards). */
  armReadable(): void;
}

const handles = new WeakMap<object, EndpointHandle>();

/** Called by VchanEndpoint's constructor. */
export function registerEndpointHandle(endpoint: object, handle: EndpointHandle): void {
  handles.set(endpoint, handle);
}

/** The handle of a VchanEndpoint; ERR_INVALID_ARG_TYPE for anything else. */
export function endpointHandle(endpoint: unknown, name = 'endpoint'): EndpointHandle {
  const handle = typeof endpoint === 'object' && endpoint !== null ? handles.get(endpoint) : undefined;
  if (handle === undefined) throw invalidArgType(name, 'a VchanEndpoint (from VchanServer.listen or VchanClient.connect)', endpoint);
  return handle;
}
