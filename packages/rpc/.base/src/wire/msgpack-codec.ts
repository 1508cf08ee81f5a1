/**
 * The one place that configures msgpackr for the wire. Everything sent must be plain MessagePack
 * that any msgpack-rpc peer decodes, and everything received is hostile input.
 */
import { Packr, Unpackr, type Options } from 'msgpackr';

const WIRE_OPTIONS: Options = {
  // records (ext 0x72) are msgpackr-only; a standard peer cannot decode them
  useRecords: false,
  // maps decode to plain objects; msgpackr renames a `__proto__` key to `__proto_`, so a peer
  // cannot reach Object.prototype through a decoded map
  mapsAsObjects: true,
  // `undefined` would otherwise be fixext1 type 0, which other decoders do not know
  encodeUndefinedAsNil: true,
  // ids and small integers from other implementations may arrive as uint64/int64: give numbers
  // when they are exact, bigint otherwise ('auto' is implemented by msgpackr 2 but missing from its types)
  int64AsType: 'auto' as Options['int64AsType'],
  // msgpackr's structured-clone extensions (ids/pointers) are not part of the wire
  structuredClone: false,
  // decoded bin payloads must not alias the receive buffer, which the transport reuses
  copyBuffers: true,
};

export function createWirePackr(): Packr {
  return new Packr({ ...WIRE_OPTIONS });
}

export function createWireUnpackr(): Unpackr {
  return new Unpackr({ ...WIRE_OPTIONS });
}
