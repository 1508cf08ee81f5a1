/**
 * Interop with Neovim, an independent msgpack-rpc implementation, over TCP: our side as client
 * (calling its API) and as server (Neovim calling our handlers through rpcrequest/rpcnotify).
 * Covers the acceptance list of issue 13: extension handles (Buffer 0, Window 1, Tabpage 2)
 * received, passed back and used; a thrown message seen by Neovim; notifications carrying handles;
 * a UI attach whose redraw batches all decode; an unregistered-extension reply failing its call
 * at once. Requires `nvim` (see neovim-process.ts); fails, not skips, without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RemoteError, RpcDecodeError, RpcExtension, type RpcExtensionCodec, type RpcPeer,
} from '@xenipc/rpc';
import { NeovimProcess, requireNeovim } from './neovim-process.js';

const BUFFER = 0;
const WINDOW = 1;
const TABPAGE = 2;

/** Typed handles through a per-peer registry: the payload is kept opaque and written back as received. */
class NvimHandle {
  constructor(readonly kind: 'buffer' | 'window' | 'tabpage', readonly data: Uint8Array) {}
}
const handleCodecs: RpcExtensionCodec[] = (['buffer', 'window', 'tabpage'] as const).map((kind, type) => ({
  type,
  decode: (data: Uint8Array) => new NvimHandle(kind, data),
  encode: (value: object) => (value instanceof NvimHandle && value.kind === kind ? value.data : undefined),
}));

/** Resolves with the first value `take` accepts among the notifications of `method`. */
function nextNotification<T>(peer: RpcPeer, method: string, take: (params: unknown[]) => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    peer.register(method, (...params: unknown[]) => {
      const value = take(params);
      if (value !== undefined) resolve(value);
    });
  });
}

let nvim: NeovimProcess;

beforeAll(async () => {
  requireNeovim();
  nvim = await NeovimProcess.start();
});
afterAll(async () => {
  await nvim?.stop();
});

describe(`Neovim interop over TCP (${(() => { try { return requireNeovim(); } catch { return 'nvim missing'; } })()})`, () => {
  it('receives Buffer/Window/Tabpage handles as RpcExtension values, passes them back and uses them', async () => {
    await using peer = await nvim.connect();
    const buffer = await peer.call<RpcExtension>('nvim_get_current_buf');
    const window = await peer.call<RpcExtension>('nvim_get_current_win');
    const tabpage = await peer.call<RpcExtension>('nvim_get_current_tabpage');
    expect(buffer).toBeInstanceOf(RpcExtension);
    expect([buffer.type, window.type, tabpage.type]).toEqual([BUFFER, WINDOW, TABPAGE]);
    await peer.call('nvim_buf_set_lines', buffer, 0, -1, true, ['first', 'second']);
    expect(await peer.call('nvim_buf_get_lines', buffer, 0, -1, true)).toEqual(['first', 'second']);
    // handles that came back from other calls are byte-identical to the ones we hold
    expect(await peer.call('nvim_win_get_buf', window)).toEqual(buffer);
    expect(await peer.call('nvim_tabpage_get_win', tabpage)).toEqual(window);
    const windows = await peer.call<RpcExtension[]>('nvim_list_wins');
    expect(windows).toContainEqual(window);
    expect(await peer.call('nvim_win_is_valid', windows[0])).toBe(true);
    expect(peer.stats.decodeErrors).toBe(0);
  });

  it('decodes and encodes handles through a per-peer registry; another peer in the process is unaffected', async () => {
    await using typed = await nvim.connect({ extensions: handleCodecs });
    await using plain = await nvim.connect();
    const window = await typed.call<NvimHandle>('nvim_get_current_win');
    expect(window).toBeInstanceOf(NvimHandle);
    expect(window.kind).toBe('window');
    const buffer = await typed.call<NvimHandle>('nvim_win_get_buf', window);
    expect(buffer.kind).toBe('buffer');
    expect(await typed.call('nvim_buf_line_count', buffer)).toBeGreaterThanOrEqual(1);
    expect(await plain.call('nvim_get_current_win')).toBeInstanceOf(RpcExtension);
  });

  it("a handler's thrown message is what Neovim shows (Lua pcall and v:exception), unknown methods too", async () => {
    await using peer = await nvim.connect();
    peer.register('fail', () => { throw new Error('kaboom'); });
    const [channel] = await peer.call<[number, unknown]>('nvim_get_api_info');
    const luaError = await peer.call<string>('nvim_exec_lua',
      "local ok, err = pcall(vim.rpcrequest, ..., 'fail'); return err", [channel]);
    expect(luaError).toContain('kaboom');
    await peer.call('nvim_exec', [
      'try', `  call rpcrequest(${channel}, 'fail')`, 'catch', '  let g:xenipc_caught = v:exception', 'endtry',
    ].join('\n'), false);
    expect(await peer.call('nvim_get_var', 'xenipc_caught')).toContain('kaboom');
    const missing = await peer.call<string>('nvim_exec_lua',
      "local ok, err = pcall(vim.rpcrequest, ..., 'no_such_method'); return err", [channel]);
    expect(missing).toContain("no handler for method 'no_such_method'");
  });

  it("with errorFormat 'map' Neovim shows only \"unknown error\" (why 'array' is the default)", async () => {
    await using peer = await nvim.connect({ errorFormat: 'map' });
    peer.register('fail', () => { throw new Error('kaboom'); });
    const [channel] = await peer.call<[number, unknown]>('nvim_get_api_info');
    const luaError = await peer.call<string>('nvim_exec_lua',
      "local ok, err = pcall(vim.rpcrequest, ..., 'fail'); return err", [channel]);
    expect(luaError).toContain('unknown error');
    expect(luaError).not.toContain('kaboom');
  });

  it('Neovim errors reach us as RemoteError with its message and error type', async () => {
    await using peer = await nvim.connect();
    const error = await peer.call('nvim_buf_get_lines', 999_999, 0, -1, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ name: 'Error', message: 'Invalid buffer id: 999999' });
    expect([0, 1]).toContain((error as RemoteError).code);
  });

  it('serves Neovim: a handle our handler returns is one Neovim can use', async () => {
    await using peer = await nvim.connect();
    const buffer = await peer.call<RpcExtension>('nvim_create_buf', true, false);
    await peer.call('nvim_buf_set_lines', buffer, 0, -1, true, ['from xenipc']);
    peer.register('give_buffer', () => buffer);
    const [channel] = await peer.call<[number, unknown]>('nvim_get_api_info');
    // Neovim turns the Buffer (ext 0) we return into its buffer number
    const lines = await peer.call<string[]>('nvim_exec_lua',
      "return vim.api.nvim_buf_get_lines(vim.rpcrequest(..., 'give_buffer'), 0, -1, true)", [channel]);
    expect(lines).toEqual(['from xenipc']);
  });

  it('delivers notifications that carry handles (nvim_buf_lines_event)', async () => {
    await using peer = await nvim.connect();
    const buffer = await peer.call<RpcExtension>('nvim_create_buf', true, false);
    const event = nextNotification(peer, 'nvim_buf_lines_event', (params) => {
      const [buf, , , , lines] = params as [RpcExtension, number, number, number, string[]];
      return lines.includes('changed') ? { buf, lines } : undefined;
    });
    expect(await peer.call('nvim_buf_attach', buffer, false, {})).toBe(true);
    await peer.call('nvim_buf_set_lines', buffer, 0, -1, true, ['changed']);
    const { buf, lines } = await event;
    expect(buf).toEqual(buffer);
    expect(lines).toEqual(['changed']);
    expect(peer.stats.malformed).toBe(0);
  });

  it('attaches as a UI: every redraw batch arrives and decodes, with window and tabpage handles', async () => {
    await using peer = await nvim.connect();
    const batches: unknown[][][] = [];
    let flushes = 0;
    const sawTabs = new Promise<RpcExtension[]>((resolve) => {
      peer.register('redraw', (...events: unknown[][]) => {
        batches.push(events);
        for (const [name, ...calls] of events) {
          if (name === 'flush') flushes++;
          if (name === 'tabline_update') {
            const tabs = (calls.at(-1) as unknown[])[1] as { tab: RpcExtension }[];
            if (tabs.length === 2) resolve(tabs.map((t) => t.tab));
          }
        }
      });
    });
    await peer.call('nvim_ui_attach', 80, 24, { ext_linegrid: true, ext_tabline: true, rgb: true });
    await peer.call('nvim_command', 'tabnew');
    await peer.call('nvim_buf_set_lines', 0, 0, -1, true, Array.from({ length: 100 }, (_, i) => `line ${i}`));
    await peer.call('nvim_command', 'redraw');
    const tabs = await sawTabs;
    expect(tabs.map((t) => t.type)).toEqual([TABPAGE, TABPAGE]);
    expect(await peer.call('nvim_tabpage_is_valid', tabs[1])).toBe(true);
    const names = new Set(batches.flatMap((events) => events.map((e) => e[0])));
    expect(names).toContain('grid_line');
    expect(names).toContain('win_viewport');
    expect(flushes).toBeGreaterThan(0);
    // every redraw notification reached the handler: nothing dropped as undecodable
    expect(peer.stats.notificationsReceived).toBe(batches.length);
    expect(peer.stats.malformed).toBe(0);
    await peer.call('nvim_ui_detach');
  });

  it('a reply holding an unregistered extension rejects its call at once when unknown types are errors', async () => {
    await using peer = await nvim.connect({ unknownExtensions: 'error', timeoutMs: 30_000 });
    const started = performance.now();
    const error = await peer.call('nvim_get_current_win').catch((e: unknown) => e);
    const elapsedMs = performance.now() - started;
    expect(error).toBeInstanceOf(RpcDecodeError);
    expect(error).toMatchObject({ code: 'ERR_RPC_DECODE', method: 'nvim_get_current_win' });
    expect(peer.stats.responsesUndecodable).toBe(1);
    // measured in the order of a millisecond; the bound only separates "at once" from the 30 s timeout
    expect(elapsedMs).toBeLessThan(5_000);
    // the connection goes on
    expect(await peer.call('nvim_eval', '1 + 1')).toBe(2);
  });

  it('a codec that throws fails only the call whose reply it could not decode', async () => {
    await using peer = await nvim.connect({
      extensions: [{ type: WINDOW, decode: () => { throw new Error('no windows here'); } }],
    });
    const error = await peer.call('nvim_get_current_win').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcDecodeError);
    expect((error as Error).message).toContain('no windows here');
    expect(await peer.call('nvim_get_current_buf')).toBeInstanceOf(RpcExtension);
  });

  it('receives lines that are not UTF-8 as raw bytes with rawStrings', async () => {
    await using raw = await nvim.connect({ rawStrings: true });
    await using text = await nvim.connect();
    const buffer = await raw.call<RpcExtension>('nvim_create_buf', true, false);
    await raw.call('nvim_buf_set_lines', buffer, 0, -1, true, [Uint8Array.of(0x61, 0xff, 0x62)]);
    expect(await raw.call('nvim_buf_get_lines', buffer, 0, -1, true)).toEqual([Uint8Array.of(0x61, 0xff, 0x62)]);
    expect(await text.call('nvim_buf_get_lines', buffer, 0, -1, true)).toEqual(['a\ufffdb']);
  });
});
