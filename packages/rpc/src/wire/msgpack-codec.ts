/**
 * The one place that configures MessagePack for the wire, per peer: everything sent must be plain
 * MessagePack that any msgpack-rpc peer decodes, and everything received is hostile input.
 *
 * Each RpcPeer owns one WireCodec, with its own msgpackr Packr/Unpackr and its own extension
 * registry; nothing is registered process-wide (msgpackr's addExtension is never called).
 * - Simple messages (simple-message-writer.ts, simple-message-reader.ts): nil, booleans, numbers,
 *   short strings and arrays of them, written and read byte by byte, without msgpackr.
 * - msgpackr: other messages without extension values, for peers that want str as strings.
 * - Own reader/writer (wire-decoder.ts, wire-encoder.ts): messages holding ext values (msgpackr's
 *   ext table is process-global and gives types 0, 0x65, 0x73, ... its own meaning), peers with
 *   `rawStrings`, and outgoing messages holding an RpcExtension or, for a peer whose registry has
 *   an `encode`, every outgoing message.
 */
import { Packr, Unpackr, type Options } from 'msgpackr';
import { MessageScanner, ScanResult } from './message-scanner.js';
import { RpcExtension, createExtensionTable, type RpcExtensionCodec } from './rpc-extension.js';
import { NOT_SIMPLE, SimpleMessageReader } from './simple-message-reader.js';
import { SimpleMessageWriter } from './simple-message-writer.js';
import { WireDecoder } from './wire-decoder.js';
import { WireEncoder } from './wire-encoder.js';

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

export interface WireCodecOptions {
  /** Extension codecs of this peer (see RpcExtensionCodec). */
  extensions?: readonly RpcExtensionCodec[];
  /** Ext types without a codec: kept as RpcExtension values ('keep', default) or a decode error ('error'). */
  unknownExtensions?: 'keep' | 'error';
  /** Receive str in RPC payloads (params, results) as Uint8Array instead of string. */
  rawStrings?: boolean;
}

/**
 * Set by RpcExtension's toJSON while msgpackr packs: msgpackr does not know the class, calls its
 * toJSON, and the codec then writes the message again with its own writer. One flag for the
 * module is enough: packing is synchronous and the codec clears it before each pack.
 */
let extensionSeen = false;
Object.defineProperty(RpcExtension.prototype, 'toJSON', {
  value(this: RpcExtension): unknown {
    extensionSeen = true;
    return { type: this.type, data: Array.from(this.data) };
  },
  enumerable: false,
  writable: true,
  configurable: true,
});

export class WireCodec {
  private readonly packr = new Packr({ ...WIRE_OPTIONS });
  private readonly unpackr = new Unpackr({ ...WIRE_OPTIONS });
  private readonly unpackRange = { start: 0, end: 0 };
  private readonly decoder: WireDecoder;
  private readonly encoder: WireEncoder;
  private readonly ownEncoderOnly: boolean;
  /** Undefined when extension codecs encode (they may claim any value). */
  private readonly simpleWriter: SimpleMessageWriter | undefined;
  private readonly simpleReader = new SimpleMessageReader();
  /** For transports that do not say whether a message holds ext values (see decode). */
  private scanner: MessageScanner | undefined;
  readonly rawStrings: boolean;

  constructor(options: WireCodecOptions = {}) {
    const extensions = createExtensionTable(options.extensions);
    this.decoder = new WireDecoder({ extensions, unknownExtensions: options.unknownExtensions ?? 'keep' });
    this.encoder = new WireEncoder(extensions);
    this.ownEncoderOnly = [...extensions.values()].some((codec) => codec.encode !== undefined);
    this.rawStrings = options.rawStrings === true;
    this.simpleWriter = this.ownEncoderOnly ? undefined : new SimpleMessageWriter();
  }

  /** Encode [0, msgid, method, params] (throws as encode()). */
  encodeRequest(msgid: number, method: string, params: unknown[]): Uint8Array {
    return this.simpleWriter?.request(msgid, method, params) ?? this.encode([0, msgid, method, params]);
  }

  /** Encode [1, msgid, nil, result] (throws as encode()). */
  encodeResult(msgid: number, result: unknown): Uint8Array {
    return this.simpleWriter?.response(msgid, result) ?? this.encode([1, msgid, null, result]);
  }

  /** Encode [2, method, params] (throws as encode()). */
  encodeNotification(method: string, params: unknown[]): Uint8Array {
    return this.simpleWriter?.notification(method, params) ?? this.encode([2, method, params]);
  }

  /** Encode one message. Throws (TypeError/RangeError) for values MessagePack cannot carry. */
  encode(message: unknown): Uint8Array {
    if (this.ownEncoderOnly) return this.encoder.encode(message);
    extensionSeen = false;
    const bytes = this.packr.pack(message);
    if (!extensionSeen) return bytes;
    extensionSeen = false;
    return this.encoder.encode(message);
  }

  /**
   * Decode the message in `buf[start, end)`. `hasExtension` is the transport's scan result;
   * undefined (a transport that does not scan) is found out here with a MessageScanner.
   */
  decode(buf: Uint8Array, start: number, end: number, hasExtension: boolean | undefined): unknown {
    if (this.rawStrings) return this.decoder.decode(buf, start, end, true);
    if (hasExtension !== true) {
      // holds no ext value if it is simple: no scan needed for that
      const simple = this.simpleReader.read(buf, start, end);
      if (simple !== NOT_SIMPLE) return simple;
    }
    if (hasExtension === undefined) {
      const scanner = (this.scanner ??= new MessageScanner(Number.MAX_SAFE_INTEGER));
      scanner.begin(start);
      // an incomplete or invalid value: the own reader reports it
      hasExtension = scanner.scan(buf, end) !== ScanResult.Complete || scanner.usesExtension;
    }
    if (!hasExtension) {
      const range = this.unpackRange;
      range.start = start;
      range.end = end;
      return this.unpackr.unpack(buf, range);
    }
    return this.decoder.decode(buf, start, end, false);
  }
}
