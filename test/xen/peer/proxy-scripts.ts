/**
 * Shell command lines that run libxenvchan's `vchan-socket-proxy` in the domU (through the peer
 * agent's startProcess), relaying its stdin/stdout ("-") over a vchan to our side in dom0.
 *
 * Two behaviours of the proxy shape them (tools/vchan/vchan-socket-proxy.c, Xen 4.17):
 * - at end of its input it writes what it holds, then stops reading the vchan and waits for one
 *   more event before it exits; and when it sees the other end gone it throws away whatever is
 *   still in its read ring. So its input must stay open until everything we send has come out
 *   of it (a FIFO tells the input side when), and we close only once it drained our ring.
 * - as a server it always asks for the smallest rings (libxenvchan_server_init(..., 0, 0):
 *   1 KiB it reads, 2 KiB it writes, both inside the control page).
 */
export const PROXY = 'vchan-socket-proxy';

/** libxenvchan builds "<path>/event-channel" in a 64-byte buffer: longer paths never connect. */
export const LIBXENVCHAN_PATH_LIMIT = 63 - '/event-channel'.length;

export type ProxyMode = 'server' | 'client';

export interface ShellLine {
  command: string;
  args: string[];
}
const sh = (script: string): ShellLine => ({ command: 'sh', args: ['-c', script] });

function checkPath(path: string): void {
  if (path.length > LIBXENVCHAN_PATH_LIMIT) throw new Error(`vchan path ${path} is longer than libxenvchan's ${LIBXENVCHAN_PATH_LIMIT}`);
}

/** Writes `bytes` random bytes to `file` in the domU and prints "input <sha256>". */
export function makeInput(file: string, bytes: number): ShellLine {
  return sh(`head -c ${bytes} /dev/urandom > ${file} && echo "input $(sha256sum ${file} | cut -d' ' -f1)"`);
}

/**
 * Relays `input` over the vchan and keeps the first `bytes` bytes that come back; then prints
 * "received <count> <sha256>" and "proxy-exit <status>".
 */
export function proxyExchange(options: { mode: ProxyMode; peer: number; path: string; input: string; bytes: number }): ShellLine {
  const { mode, peer, path, input, bytes } = options;
  checkPath(path);
  return sh([
    'd=$(mktemp -d) && mkfifo "$d/done" || exit 1',
    // stdin: the input, then held open until the output side has all it expects.
    `( cat ${input}; read x < "$d/done" ) | { ${PROXY} -m ${mode} ${peer} ${path} -; echo $? > "$d/rc"; } \\`,
    `  | { head -c ${bytes} > "$d/out"; echo > "$d/done"; cat > /dev/null; }`,
    'echo "received $(wc -c < "$d/out") $(sha256sum "$d/out" | cut -d" " -f1)"',
    'echo "proxy-exit $(cat "$d/rc")"',
    'rm -rf "$d"',
  ].join('\n'));
}

/**
 * The proxy given `input` and nothing more: at its end it must finish and exit by itself (our
 * reader wakes it when it empties the ring: see packages/channel's Notifier.drained()). Prints
 * "proxy-exit <status>".
 */
export function proxyToEndOfInput(options: { mode: ProxyMode; peer: number; path: string; input: string }): ShellLine {
  checkPath(options.path);
  return sh(`${PROXY} -m ${options.mode} ${options.peer} ${options.path} - < ${options.input} > /dev/null; echo "proxy-exit $?"`);
}

/** The proxy moving data both ways until it or the other end goes: endless zeros in, output dropped. */
export function proxyPump(options: { mode: ProxyMode; peer: number; path: string }): ShellLine {
  checkPath(options.path);
  return sh(`exec ${PROXY} -m ${options.mode} ${options.peer} ${options.path} - < /dev/zero > /dev/null`);
}

/** Parses proxyExchange's report. */
export function parseExchangeReport(stdout: string): { received: number; sha256: string; proxyExit: number } {
  const received = /received\s+(\d+) ([0-9a-f]{64})/.exec(stdout);
  const exit = /proxy-exit (\d+)/.exec(stdout);
  if (!received || !exit) throw new Error(`no exchange report from the domU in: ${stdout.slice(-500)}`);
  return { received: Number(received[1]), sha256: received[2]!, proxyExit: Number(exit[1]) };
}
