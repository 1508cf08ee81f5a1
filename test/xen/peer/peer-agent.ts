/**
 * The peer agent: runs in the rig's domU (suite/domu-peer.sh) and acts on that domain's real Xen
 * devices for dom0-side tests, which drive it through xenstore (agent-protocol.ts). Requests run
 * concurrently; each answers once.
 */
import {
  connectXenStore,
  type EventChannel,
  type ForeignMapping,
  type GrantedPages,
  openXenBackend,
  type XenBackend,
  type XenStore,
  XENSTORED_SOCKET_PATH,
} from '@xenipc/core';
import { existsSync } from 'node:fs';
import { AgentProcess } from './agent-process.js';
import { agentDir, type AgentError, type AgentOp, type AgentOps, type AgentRequest, type AgentResponse, type Handle } from './agent-protocol.js';
import { fillPattern, firstPatternMismatch } from './byte-pattern.js';
import { EventCounter } from './event-counter.js';
import { startVictim, type Victim } from './victim-process.js';
import { waitUntil } from './wait-until.js';
import { XsCliWatch, xsList, xsRm, xsTryRead, xsWrite } from './xenstore-cli.js';

type Region = GrantedPages | ForeignMapping;
type Resource =
  | { kind: 'region'; region: Region }
  | { kind: 'channel'; counter: EventCounter }
  | { kind: 'victim'; victim: Victim }
  | { kind: 'process'; process: AgentProcess };

const domid = Number(process.env.XENIPC_DOMID ?? (await xsTryRead('domid')));
const dir = agentDir(domid);
const resources = new Map<Handle, Resource>();
let nextHandle = 1;
let backendPromise: Promise<XenBackend> | undefined;
let xenstorePromise: Promise<XenStore> | undefined;

function backend(): Promise<XenBackend> {
  backendPromise ??= openXenBackend();
  return backendPromise;
}
function xenstore(): Promise<XenStore> {
  xenstorePromise ??= connectXenStore();
  return xenstorePromise;
}
function remember(resource: Resource): Handle {
  resources.set(nextHandle, resource);
  return nextHandle++;
}
function resource<K extends Resource['kind']>(handle: Handle, kind: K): Extract<Resource, { kind: K }> {
  const found = resources.get(handle);
  if (found?.kind !== kind) throw new Error(`handle ${handle} is not a live ${kind}`);
  return found as Extract<Resource, { kind: K }>;
}
const bytesOf = (handle: Handle): Uint8Array => new Uint8Array(resource(handle, 'region').region.buffer);
function countEvents(channel: EventChannel): Handle {
  return remember({ kind: 'channel', counter: new EventCounter(channel) });
}

const handlers: { [K in AgentOp]: (args: AgentOps[K]['args']) => Promise<AgentOps[K]['result']> } = {
  hello: async () => ({ domid, pid: process.pid }),
  share: async ({ peer, pages, writable, seed }) => {
    const granted = await (await backend()).share(peer, pages, { writable: writable ?? true });
    if (seed !== undefined) fillPattern(new Uint8Array(granted.buffer), seed);
    return { handle: remember({ kind: 'region', region: granted }), refs: [...granted.refs] };
  },
  map: async ({ peer, refs, writable }) => {
    const mapping = await (await backend()).map(peer, refs, { writable: writable ?? true });
    return { handle: remember({ kind: 'region', region: mapping }) };
  },
  fill: async ({ handle, seed }) => {
    fillPattern(bytesOf(handle), seed);
    return null;
  },
  check: async ({ handle, seed }) => ({ mismatchAt: firstPatternMismatch(bytesOf(handle), seed) }),
  peek: async ({ handle, offset }) => ({ value: bytesOf(handle)[offset] ?? -1 }),
  poke: async ({ handle, offset, value }) => {
    bytesOf(handle)[offset] = value;
    return null;
  },
  bindUnbound: async ({ peer }) => {
    const channel = await (await backend()).bindUnbound(peer);
    return { handle: countEvents(channel), port: channel.localPort };
  },
  probeDomain: async ({ domid }) => ({ presence: await (await backend()).probeDomain(domid) }),
  bindInterdomain: async ({ peer, port }) => {
    const channel = await (await backend()).bindInterdomain(peer, port);
    return { handle: countEvents(channel), port: channel.localPort };
  },
  notify: async ({ handle, times }) => {
    const { channel } = resource(handle, 'channel').counter;
    for (let i = 0; i < (times ?? 1); i++) channel.notify();
    return null;
  },
  settledEventCount: async ({ handle, quietMs }) => ({ count: await resource(handle, 'channel').counter.settled(quietMs) }),
  waitEvents: async ({ handle, count, timeoutMs }) => ({ count: await resource(handle, 'channel').counter.waitFor(count, timeoutMs) }),
  waitByteCleared: async ({ handle, offset, timeoutMs }) => {
    const bytes = bytesOf(handle);
    await waitUntil(`byte ${offset} to be cleared`, timeoutMs, () => bytes[offset] === 0);
    return null;
  },
  setUnmapNotify: async ({ handle, clearByte, eventHandle }) => {
    const sendEvent = eventHandle === undefined ? undefined : resource(eventHandle, 'channel').counter.channel;
    resource(handle, 'region').region.setUnmapNotify({ ...(clearByte === undefined ? {} : { clearByte }), ...(sendEvent ? { sendEvent } : {}) });
    return null;
  },
  close: async ({ handle }) => {
    const found = resources.get(handle);
    resources.delete(handle);
    if (found?.kind === 'region') found.region.close();
    else if (found?.kind === 'channel') found.counter.channel.close();
    else if (found?.kind === 'victim') found.victim.child.kill('SIGKILL');
    else if (found?.kind === 'process') found.process.kill('SIGKILL');
    return null;
  },
  spawnVictim: async (plan) => {
    const victim = await startVictim(plan);
    return { handle: remember({ kind: 'victim', victim }), ready: victim.ready };
  },
  killVictim: async ({ handle, signal }) => {
    const { victim } = resource(handle, 'victim');
    resources.delete(handle);
    victim.child.kill(signal);
    return { signal: await victim.exited };
  },
  readBytes: async ({ handle, offset, length }) => {
    if (length > 1024) throw new RangeError(`readBytes: at most 1024 bytes, not ${length}`);
    return { hex: Buffer.from(bytesOf(handle).subarray(offset, offset + length)).toString('hex') };
  },
  writeBytes: async ({ handle, offset, hex }) => {
    bytesOf(handle).set(Buffer.from(hex, 'hex'), offset);
    return null;
  },
  startProcess: async ({ command, args, stdin, stdinOpenMs }) => {
    const program = new AgentProcess(command, args, stdin, stdinOpenMs ?? 0);
    return { handle: remember({ kind: 'process', process: program }), pid: program.child.pid ?? -1 };
  },
  awaitProcessOutput: async ({ handle, text, timeoutMs }) => ({ stdout: await resource(handle, 'process').process.awaitOutput(text, timeoutMs) }),
  processResult: async ({ handle, timeoutMs }) => {
    const { process: program } = resource(handle, 'process');
    resources.delete(handle);
    return program.result(timeoutMs);
  },
  xsClientWrite: async ({ path, value }) => {
    const xs = await xenstore();
    await xs.write(path, value);
    return { transport: existsSync(XENSTORED_SOCKET_PATH) ? XENSTORED_SOCKET_PATH : 'xenbus device' };
  },
  xsClientRead: async ({ path }) => ({ value: await (await xenstore()).read(path) }),
  xsClientAwaitValue: async ({ path, value, timeoutMs }) => {
    const xs = await xenstore();
    const token = `await-${nextHandle++}`;
    let events = 0;
    let seen = false;
    const onWatch = (event: { path: string; token: string }): void => {
      if (event.token !== token) return;
      events++;
      void xs.read(path).then((current) => (seen ||= current === value), () => undefined);
    };
    xs.on('watch', onWatch);
    await xs.watch(path, token);
    await xs.write(`${path}-watching`, '1');
    try {
      await waitUntil(`${path} = ${value}`, timeoutMs, () => seen);
    } finally {
      xs.off('watch', onWatch);
      await xs.unwatch(path, token);
    }
    return { events };
  },
};

function describeError(err: unknown): AgentError {
  const e = err as Error & { code?: unknown; syscall?: unknown };
  return {
    message: e.message ?? String(err),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.syscall === 'string' ? { syscall: e.syscall } : {}),
  };
}

const started = new Set<string>();
async function serve(id: string): Promise<void> {
  if (started.has(id)) return;
  const text = await xsTryRead(`${dir}/req/${id}`);
  if (text === undefined || started.has(id)) return;
  started.add(id);
  void xsRm(`${dir}/req/${id}`).catch(() => undefined);
  let response: AgentResponse;
  let request: AgentRequest | undefined;
  try {
    // Inside the try: a garbled request gets an error answer instead of killing the agent.
    request = JSON.parse(text) as AgentRequest;
    const handler = handlers[request.op] as (args: unknown) => Promise<unknown>;
    if (handler === undefined) throw new Error(`unknown op ${request.op}`);
    response = { ok: true, result: (await handler(request.args)) as AgentOps[AgentOp]['result'] };
  } catch (err) {
    response = { ok: false, error: describeError(err) };
    const what = request ? `${request.op} ${JSON.stringify(request.args)}` : `request ${text.slice(0, 200)}`;
    console.log(`peer-agent: ${what} failed: ${response.error.message}`);
  }
  await xsWrite(`${dir}/res/${id}`, JSON.stringify(response));
}

await xsRm(dir).catch(() => undefined);
await xsWrite(`${dir}/res`, '');
await xsWrite(`${dir}/req`, '');
new XsCliWatch(`${dir}/req`, (path) => {
  if (path === `${dir}/req`) void xsList(path).then((ids) => ids.forEach((id) => void serve(id)));
  else if (path.startsWith(`${dir}/req/`)) void serve(path.slice(`${dir}/req/`.length));
});
await xsWrite(`${dir}/ready`, String(process.pid));
console.log(`peer-agent: domain ${domid} ready (pid ${process.pid}) at ${dir}`);
