/**
 * MessagePack extension values (ext types -128..127) as an RpcPeer sees them.
 *
 * Each peer has its own registry (RpcPeerOptions.extensions); nothing is registered process-wide.
 * A received ext type with a registered codec becomes whatever its `decode` returns; any other
 * type becomes an {@link RpcExtension} holding the type and a copy of the payload, and is written
 * back byte for byte when sent (so a Neovim Buffer/Window/Tabpage handle can be passed back as
 * received). Type -1 (the MessagePack timestamp) decodes to a Date unless registered otherwise.
 */
import { invalidArgType, outOfRange } from '../errors/argument-errors.js';
import { REFUSED_EXTENSION_TYPES } from './message-scanner.js';

/** An extension value of a type this peer has no codec for: kept as received, sent back as is. */
export class RpcExtension {
  constructor(
    /** The ext type, -128..127 (Neovim: 0 Buffer, 1 Window, 2 Tabpage). */
    readonly type: number,
    /** The payload (for Neovim handles: the MessagePack encoding of the handle's integer id). */
    readonly data: Uint8Array,
  ) {
    if (!Number.isInteger(type) || type < -128 || type > 127) throw outOfRange('type', 'an integer from -128 to 127', type);
    if (!(data instanceof Uint8Array)) throw invalidArgType('data', 'a Uint8Array', data);
  }
}

/** A codec for one ext type, registered per peer (RpcPeerOptions.extensions). */
export interface RpcExtensionCodec {
  /** The ext type, -128..127; 0x42, 0x62 and 0x72 are refused on input (msgpackr-private) and cannot be registered. */
  type: number;
  /**
   * Build the value from the payload (a copy the codec may keep). Throwing makes the message
   * undecodable: a response then rejects its call with RpcDecodeError.
   */
  decode(data: Uint8Array): unknown;
  /**
   * Offered every outgoing value that is an instance of a class (not a plain object, array,
   * Map, Set, Date, byte array or RpcExtension): return the payload to send it as this ext type,
   * or undefined to decline. Registering any `encode` makes the peer encode with its own
   * MessagePack writer (wire-encoder.ts) instead of msgpackr.
   */
  encode?(value: object): Uint8Array | undefined;
}

/** A registry checked once: ext type -> codec. */
export type ExtensionTable = ReadonlyMap<number, RpcExtensionCodec>;

export function createExtensionTable(codecs: readonly RpcExtensionCodec[] | undefined): ExtensionTable {
  const table = new Map<number, RpcExtensionCodec>();
  if (codecs === undefined) return table;
  if (!Array.isArray(codecs)) throw invalidArgType('options.extensions', 'an array', codecs);
  for (const codec of codecs) {
    if (typeof codec !== 'object' || codec === null) throw invalidArgType('extension codec', 'an object', codec);
    const { type } = codec;
    if (typeof type !== 'number') throw invalidArgType('extension codec type', 'a number', type);
    if (!Number.isInteger(type) || type < -128 || type > 127) throw outOfRange('extension codec type', 'an integer from -128 to 127', type);
    if (REFUSED_EXTENSION_TYPES.includes(type)) {
      throw outOfRange('extension codec type', 'not 0x42, 0x62 or 0x72 (msgpackr-private types, refused on input)', type);
    }
    if (typeof codec.decode !== 'function') throw invalidArgType('extension codec decode', 'a function', codec.decode);
    if (codec.encode !== undefined && typeof codec.encode !== 'function') throw invalidArgType('extension codec encode', 'a function', codec.encode);
    if (table.has(type)) throw outOfRange('extension codec type', 'registered once', type);
    table.set(type, codec);
  }
  return table;
}
