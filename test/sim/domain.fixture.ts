/**
 * One simulated domain in its own OS process, driven by the test over the IPC channel:
 * each message {id, cmd, ...} gets a reply {id, ...result} or {id, error: code}.
 */
import { joinSimulatedHost, type EventChannel, type ForeignMapping, type GrantedPages, type XenBackend, type XsWatchEvent } from '@xenipc/core';

type Command = { id: number; cmd: string; [key: string]: unknown };

const dir = process.argv[2] ?? '';
let backend: XenBackend | undefined;
const regions: Array<GrantedPages | ForeignMapping> = [];
const channels: EventChannel[] = [];
const eventCounts: number[] = [];
let armed: Promise<Record<string, unknown>> | undefined;
const watchEvents: XsWatchEvent[] = [];

function reply(id: number, result: Record<string, unknown>, then: () => void = () => undefined): void {
  process.send?.({ id, ...result }, undefined, {}, then);
}

function bytes(index: number): Uint8Array {
  const region = regions[index];
  if (region === undefined) throw new Error(`no region ${index}`);
  return new Uint8Array(region.buffer);
}

function addChannel(channel: EventChannel): number {
  const index = channels.push(channel) - 1;
  eventCounts[index] = 0;
  channel.on('event', () => (eventCounts[index] = (eventCounts[index] ?? 0) + 1));
  return index;
}

/** Ping-pong over a shared Int32 counter: the pinger makes it odd, the ponger even. */
function pingPong(region: number, channel: number, rounds: number, pinger: boolean): Promise<void> {
  const counter = new Int32Array(regions[region]!.buffer, 0, 1);
  const ch = channels[channel]!;
  const goal = 2 * rounds;
  return new Promise((resolve) => {
    const step = (): void => {
      const value = Atomics.load(counter, 0);
      if (pinger && value === goal) {
        ch.removeListener('event', step);
        return resolve();
      }
      if (pinger ? value % 2 === 0 : value % 2 === 1) {
        Atomics.store(counter, 0, value + 1);
        ch.notify();
        if (!pinger && value + 1 === goal) {
          ch.removeListener('event', step);
          resolve();
        }
      }
    };
    ch.on('event', step);
    step(); // the peer may have moved before we started listening

  });
}

async function run(message: Command): Promise<Record<string, unknown>> {
  const b = backend;
  switch (message.cmd) {
    case 'join':
      backend = await joinSimulatedHost({ dir, autoStart: message.autoStart === true });
      backend.xenstore.on('watch', (event) => watchEvents.push(event));
      return { domid: backend.domid };
    case 'share': {
      const pages = await b!.share(message.peer as number, message.count as number, { writable: message.writable !== false });
      return { region: regions.push(pages) - 1, refs: pages.refs };
    }
    case 'map': {
      const mapping = await b!.map(message.peer as number, message.refs as number[], { writable: message.writable !== false });
      return { region: regions.push(mapping) - 1 };
    }
    case 'poke':
      bytes(message.region as number)[message.offset as number] = message.value as number;
      return {};
    case 'peek':
      return { value: bytes(message.region as number)[message.offset as number] };
    case 'bindUnbound':
      return { channel: addChannel(await b!.bindUnbound(message.peer as number)), port: channels.at(-1)!.localPort };
    case 'bindInterdomain':
      return { channel: addChannel(await b!.bindInterdomain(message.peer as number, message.port as number)) };
    case 'unmapNotify':
      regions[message.region as number]!.setUnmapNotify({ clearByte: message.clearByte as number, sendEvent: channels[message.channel as number] });
      return {};
    case 'armEvent': {
      // Listen now (before the test triggers anything); 'armedEvent' later collects the result.
      const region = message.region as number;
      armed = new Promise((resolve) =>
        channels[message.channel as number]!.once('event', () => resolve({ at: Date.now(), value: bytes(region)[message.offset as number] })));
      return {};
    }
    case 'armedEvent':
      return await armed!;
    case 'status':
      return { status: await channels[message.channel as number]!.status() };
    case 'notify':
      for (let i = 0; i < (message.times as number); i++) channels[message.channel as number]!.notify();
      return {};
    case 'countUntil': {
      // Count events on `channel` until one arrives on `marker`.
      const before = eventCounts[message.channel as number] ?? 0;
      await new Promise<void>((resolve) => channels[message.marker as number]!.once('event', resolve));
      return { events: (eventCounts[message.channel as number] ?? 0) - before };
    }
    case 'pingPong': {
      const started = performance.now();
      await pingPong(message.region as number, message.channel as number, message.rounds as number, message.pinger === true);
      return { ms: performance.now() - started };
    }
    case 'xs': {
      // Any XenStore method by name, e.g. { method: 'write', args: ['data/x', 'v'] }.
      const store = b!.xenstore as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
      const method = store[message.method as string];
      if (typeof method !== 'function') throw new Error(`no xenstore method ${String(message.method)}`);
      return { result: await method.apply(b!.xenstore, message.args as unknown[]) };
    }
    case 'xsEvents': {
      const events = watchEvents.splice(0);
      return { events };
    }
    case 'xsRead':
      return { value: await b!.xenstore.read(message.path as string) };
    case 'xsWrite':
      await b!.xenstore.write(message.path as string, message.value as string);
      return {};
    case 'close':
      for (const r of regions) r.close();
      for (const c of channels) c.close();
      await b?.close();
      return {};
    default:
      throw new Error(`unknown command ${message.cmd}`);
  }
}

process.on('message', (message: Command) => {
  if (message.cmd === 'block') {
    // Block this process's event loop so the test can notify it several times before delivery.
    reply(message.id, {}, () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, message.ms as number));
    return;
  }
  run(message).then(
    (result) => reply(message.id, result, message.cmd === 'close' ? () => process.exit(0) : undefined),
    (err: unknown) => reply(message.id, { error: (err as { code?: string }).code ?? String(err) }),
  );
});
