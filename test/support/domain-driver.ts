/**
 * One domain's side of a multi-domain test, driven by named commands: `{cmd, ...args}` in, a result
 * object out (a failure throws; its errno `code` is what tests compare). The same driver runs in
 * the test process (loopback host, in-process domains) and inside a child process
 * (domain.fixture.ts, for domains that must be killable by SIGKILL), so a conformance test is
 * written once against `DomainHandle` and means the same on every host.
 */
import type { EventChannel, ForeignMapping, GrantedPages, XenBackend, XsWatchEvent } from '@xenipc/core';

export type Command = { cmd: string; [key: string]: unknown };
export type CommandResult = Record<string, unknown>;

/** What a test holds of a domain, wherever it runs. `ask` resolves with `error` set on failure. */
export interface DomainHandle {
  readonly domid: number;
  /** Run a command; a failure rejects. */
  do(cmd: string, args?: Record<string, unknown>): Promise<Record<string, any>>;
  /** Run a command; a failure resolves with `{ error: code }`. */
  ask(cmd: string, args?: Record<string, unknown>): Promise<Record<string, any>>;
  /** Release everything (as a process exiting cleanly would). */
  close(): Promise<void>;
}

export class DomainDriver {
  readonly #regions: Array<GrantedPages | ForeignMapping> = [];
  readonly #channels: EventChannel[] = [];
  readonly #eventCounts: number[] = [];
  readonly #watchEvents: XsWatchEvent[] = [];
  #armed: Promise<CommandResult> | undefined;

  constructor(readonly backend: XenBackend) {
    backend.xenstore.on('watch', (event) => this.#watchEvents.push(event));
  }

  #bytes(index: number): Uint8Array {
    const region = this.#regions[index];
    if (region === undefined) throw new Error(`no region ${index}`);
    return new Uint8Array(region.buffer);
  }

  #channel(index: unknown): EventChannel {
    const channel = this.#channels[index as number];
    if (channel === undefined) throw new Error(`no channel ${String(index)}`);
    return channel;
  }

  #addChannel(channel: EventChannel): number {
    const index = this.#channels.push(channel) - 1;
    this.#eventCounts[index] = 0;
    channel.on('event', () => (this.#eventCounts[index] = (this.#eventCounts[index] ?? 0) + 1));
    return index;
  }

  /** Ping-pong over a shared Int32 counter: the pinger makes it odd, the ponger even. */
  #pingPong(region: number, channelIndex: number, rounds: number, pinger: boolean): Promise<void> {
    const counter = new Int32Array(this.#regions[region]!.buffer, 0, 1);
    const channel = this.#channel(channelIndex);
    const goal = 2 * rounds;
    return new Promise((resolve) => {
      const step = (): void => {
        const value = Atomics.load(counter, 0);
        if (pinger && value === goal) {
          channel.removeListener('event', step);
          return resolve();
        }
        if (pinger ? value % 2 === 0 : value % 2 === 1) {
          Atomics.store(counter, 0, value + 1);
          channel.notify();
          if (!pinger && value + 1 === goal) {
            channel.removeListener('event', step);
            resolve();
          }
        }
      };
      channel.on('event', step);
      step(); // the peer may have moved before we started listening
    });
  }

  async run(message: Command): Promise<CommandResult> {
    const b = this.backend;
    switch (message.cmd) {
      case 'share': {
        const pages = await b.share(message['peer'] as number, message['count'] as number, { writable: message['writable'] !== false });
        return { region: this.#regions.push(pages) - 1, refs: pages.refs };
      }
      case 'map': {
        const mapping = await b.map(message['peer'] as number, message['refs'] as number[], { writable: message['writable'] !== false });
        return { region: this.#regions.push(mapping) - 1, bytes: mapping.buffer.byteLength };
      }
      case 'poke':
        this.#bytes(message['region'] as number)[message['offset'] as number] = message['value'] as number;
        return {};
      case 'peek':
        return { value: this.#bytes(message['region'] as number)[message['offset'] as number] };
      case 'closeRegion': {
        const region = this.#regions[message['region'] as number];
        region?.close();
        return { byteLength: region?.buffer.byteLength };
      }
      case 'bindUnbound': {
        const channel = this.#addChannel(await b.bindUnbound(message['peer'] as number));
        return { channel, port: this.#channel(channel).localPort };
      }
      case 'bindInterdomain': {
        const channel = this.#addChannel(await b.bindInterdomain(message['peer'] as number, message['port'] as number));
        return { channel, port: this.#channel(channel).localPort };
      }
      case 'closeChannel':
        this.#channel(message['channel']).close();
        return {};
      case 'unmapNotify': {
        const region = this.#regions[message['region'] as number];
        if (region === undefined) throw new Error(`no region ${String(message['region'])}`);
        const sendEvent = message['channel'] === undefined ? undefined : this.#channel(message['channel']);
        region.setUnmapNotify({
          ...(message['clearByte'] === undefined ? {} : { clearByte: message['clearByte'] as number }),
          ...(sendEvent === undefined ? {} : { sendEvent }),
        });
        return {};
      }
      case 'armEvent': {
        // Listen now (before the test triggers anything); 'armedEvent' later collects the result.
        const region = message['region'] as number | undefined;
        const offset = message['offset'] as number;
        this.#armed = new Promise((resolve) =>
          this.#channel(message['channel']).once('event', () => resolve({ value: region === undefined ? undefined : this.#bytes(region)[offset] })),
        );
        return {};
      }
      case 'armedEvent':
        if (this.#armed === undefined) throw new Error('armedEvent before armEvent');
        return await this.#armed;
      case 'events':
        return { events: this.#eventCounts[message['channel'] as number] ?? 0 };
      case 'waitEvents': {
        // Resolves once `channel` has seen at least `count` events in all.
        const channel = this.#channel(message['channel']);
        const index = message['channel'] as number;
        const count = message['count'] as number;
        if ((this.#eventCounts[index] ?? 0) < count) {
          await new Promise<void>((resolve) => {
            const check = (): void => {
              if ((this.#eventCounts[index] ?? 0) < count) return;
              channel.removeListener('event', check);
              resolve();
            };
            channel.on('event', check);
          });
        }
        return { events: this.#eventCounts[index] ?? 0 };
      }
      case 'status':
        return { status: await this.#channel(message['channel']).status() };
      case 'probeOwner': {
        const region = this.#regions[message['region'] as number];
        if (region === undefined || !('probeOwner' in region)) throw new Error(`no mapping ${String(message['region'])}`);
        return { presence: await region.probeOwner() };
      }
      case 'probeDomain':
        return { presence: await this.backend.probeDomain(message['domid'] as number) };
      case 'notify':
        for (let i = 0; i < ((message['times'] as number | undefined) ?? 1); i++) this.#channel(message['channel']).notify();
        return {};
      case 'countUntil': {
        // Count events on `channel` until one arrives on `marker`.
        const before = this.#eventCounts[message['channel'] as number] ?? 0;
        await new Promise<void>((resolve) => this.#channel(message['marker']).once('event', resolve));
        return { events: (this.#eventCounts[message['channel'] as number] ?? 0) - before };
      }
      case 'pingPong': {
        const started = performance.now();
        await this.#pingPong(message['region'] as number, message['channel'] as number, message['rounds'] as number, message['pinger'] === true);
        return { ms: performance.now() - started };
      }
      case 'xs': {
        // Any XenStore method by name, e.g. { method: 'write', args: ['data/x', 'v'] }.
        const store = b.xenstore as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
        const method = store[message['method'] as string];
        if (typeof method !== 'function') throw new Error(`no xenstore method ${String(message['method'])}`);
        return { result: await method.apply(b.xenstore, message['args'] as unknown[]) };
      }
      case 'xsEvents':
        return { events: this.#watchEvents.splice(0) };
      case 'xsRead':
        return { value: await b.xenstore.read(message['path'] as string) };
      case 'xsWrite':
        await b.xenstore.write(message['path'] as string, message['value'] as string);
        return {};
      case 'close':
        for (const r of this.#regions) r.close();
        for (const c of this.#channels) c.close();
        await b.close();
        return {};
      default:
        throw new Error(`unknown command ${message.cmd}`);
    }
  }
}

/** A DomainHandle over a driver in this process. */
export class LocalDomain implements DomainHandle {
  readonly #driver: DomainDriver;
  constructor(backend: XenBackend) {
    this.#driver = new DomainDriver(backend);
  }
  get domid(): number {
    return this.#driver.backend.domid;
  }
  do(cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> {
    return this.#driver.run({ cmd, ...args });
  }
  async ask(cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> {
    try {
      return await this.#driver.run({ cmd, ...args });
    } catch (err) {
      return { error: (err as { code?: string }).code ?? String(err), message: String(err) };
    }
  }
  async close(): Promise<void> {
    await this.#driver.run({ cmd: 'close' });
  }
}
