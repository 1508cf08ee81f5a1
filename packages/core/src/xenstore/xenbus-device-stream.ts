/**
 * A Duplex over the /dev/xen/xenbus character device (how a domU without a xenstored socket
 * talks to xenstore). Node's net.Socket refuses character devices, so reads and writes go through
 * fs on the thread pool: one read is always outstanding (it blocks in the kernel until a reply or
 * watch event is queued); each write() hands the kernel one whole xs_wire message.
 *
 * Closing: a blocked read cannot be cancelled, and it would keep the process alive. So _destroy
 * first sends a harmless request (XS_GET_DOMAIN_PATH 0) whose reply unblocks the read, then closes
 * the fd once the read has returned.
 */
import { close, open, read, write } from 'node:fs';
import { Duplex } from 'node:stream';
import { encodeXsMessage, nulTerminated, XS_HEADER_SIZE, XS_PAYLOAD_MAX, XsMessageType } from './xs-wire.js';

/** req_id of the wake-up request; the client never uses it (its ids start at 1 and wrap to 1). */
const WAKE_UP_REQ_ID = 0;

export class XenbusDeviceStream extends Duplex {
  readonly #path: string;
  #fd: number | undefined;
  #reading = false;
  #closing = false;
  #destroyCallback: ((err: Error | null) => void) | undefined;

  private constructor(path: string, fd: number) {
    super();
    this.#path = path;
    this.#fd = fd;
  }

  static open(path: string): Promise<XenbusDeviceStream> {
    return new Promise((resolve, reject) => {
      open(path, 'r+', (err, fd) => (err ? reject(err) : resolve(new XenbusDeviceStream(path, fd))));
    });
  }

  get path(): string {
    return this.#path;
  }

  override _read(): void {
    if (this.#reading || this.#fd === undefined) return;
    this.#reading = true;
    const buffer = Buffer.allocUnsafe(XS_HEADER_SIZE + XS_PAYLOAD_MAX);
    read(this.#fd, buffer, 0, buffer.length, null, (err, bytes) => {
      this.#reading = false;
      if (this.#closing) return this.#finishClose();
      if (err) return this.destroy(err);
      if (bytes === 0) return void this.push(null);
      if (this.push(buffer.subarray(0, bytes))) this._read();
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.#fd === undefined) return callback(new Error(`${this.#path} is closed`));
    write(this.#fd, chunk, 0, chunk.length, null, (err, written) => {
      if (err) return callback(err);
      if (written !== chunk.length) return callback(new Error(`short write to ${this.#path} (${written} of ${chunk.length} bytes)`));
      callback();
    });
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    if (this.#fd === undefined) return callback(err);
    this.#closing = true;
    this.#destroyCallback = (closeErr) => callback(err ?? closeErr);
    if (!this.#reading) return this.#finishClose();
    const wakeUp = encodeXsMessage(XsMessageType.GET_DOMAIN_PATH, WAKE_UP_REQ_ID, 0, nulTerminated('0'));
    write(this.#fd, wakeUp, () => undefined);
  }

  #finishClose(): void {
    const fd = this.#fd;
    const callback = this.#destroyCallback;
    this.#fd = undefined;
    this.#destroyCallback = undefined;
    if (fd === undefined) return;
    close(fd, (err) => callback?.(err ?? null));
  }
}
