/**
 * A server that takes one client after another on the same path (libxenvchan serves one client
 * per channel; Qubes' qrexec agent re-listens the same way). Each client gets a fresh channel --
 * new grants, new port, new rings -- published once the previous one has been released, so a
 * reconnecting client never sees the previous client's leftovers:
 *
 *   const loop = VchanServer.serve(backend, { peer: 2, port: 'svc' });
 *   for await (const server of loop) { ...use it until it closes... }
 */
import type { XenBackend } from '@xenipc/core';
import { VchanServer, type VchanServerOptions } from './vchan-server.js';

export class VchanAcceptLoop implements AsyncIterable<VchanServer>, AsyncDisposable {
  private readonly abort = new AbortController();
  private current: VchanServer | undefined;

  constructor(
    private readonly backend: XenBackend,
    private readonly options: Omit<VchanServerOptions, 'waitForClient' | 'signal' | 'timeoutMs'>,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<VchanServer> {
    while (!this.abort.signal.aborted) {
      let server: VchanServer;
      try {
        server = await VchanServer.listen(this.backend, { ...this.options, signal: this.abort.signal });
      } catch (err) {
        if (this.abort.signal.aborted) return;
        throw err;
      }
      this.current = server;
      yield server;
      // Wait until the user is done with it (closed, or the peer left and it was drained):
      // only then is the xenstore path free to publish the next channel.
      await server.closed();
      this.current = undefined;
    }
  }

  /** Stop accepting, and close the channel in use, if any. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.current?.close();
  }

  /** `await using loop = VchanServer.serve(...)`: close() at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
