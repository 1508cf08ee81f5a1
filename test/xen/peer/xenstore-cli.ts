/**
 * xenstore through Xen's own command-line tools (xenstore-read/-write/-rm/-list/-watch, from
 * libxenstore). The cross-domain tests' control path between dom0 and the peer agent uses these,
 * not @xenipc/core's client, so a bug in the code under test cannot break the harness that tests
 * it. They work in dom0 (xenstored socket) and in a domU (/dev/xen/xenbus).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * The tools run from one long-lived `sh` per process, one command at a time: forking this
 * (big) node process for every tool call costs far more under a PV kernel on TCG (every page
 * table of the parent is copied through the hypervisor) than forking a small shell does.
 */
class ToolShell {
  readonly #child: ChildProcess;
  #queue: Promise<unknown> = Promise.resolve();
  #buffer = '';
  #waiting: ((chunk: string) => void) | undefined;
  #nonce = 0;
  #failed: Error | undefined;

  constructor() {
    this.#child = spawn('sh', [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#child.stdout!.setEncoding('utf8');
    this.#child.stdout!.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#waiting?.(this.#buffer);
    });
    const fail = (why: string): void => {
      this.#failed ??= new Error(`xenstore tool shell: ${why}`);
      this.#waiting?.(this.#buffer);
    };
    this.#child.on('error', (err) => fail(err.message));
    this.#child.on('exit', (code, signal) => fail(`exited (${code ?? signal})`));
    this.#child.stdin!.on('error', () => undefined);
    this.#hold(false);
  }

  #pending = 0;
  /** Keeps this process alive while a command runs, and only then (an idle shell must not). */
  #hold(on: boolean): void {
    for (const handle of [this.#child, this.#child.stdout, this.#child.stdin] as unknown as { ref(): void; unref(): void }[]) {
      if (on) handle.ref();
      else handle.unref();
    }
  }

  /** Runs `tool args...` (each argument single-quoted); resolves with its stdout+stderr and status. */
  run(tool: string, args: readonly string[]): Promise<{ status: number; output: string }> {
    if (this.#pending++ === 0) this.#hold(true);
    const result = this.#queue.then(() => this.#runNow(tool, args)).finally(() => {
      if (--this.#pending === 0) this.#hold(false);
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #runNow(tool: string, args: readonly string[]): Promise<{ status: number; output: string }> {
    if (this.#failed) return Promise.reject(this.#failed);
    const marker = `@@xs-done-${process.pid}-${++this.#nonce}`;
    const quoted = [tool, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    return new Promise((resolve, reject) => {
      const check = (text: string): void => {
        const at = text.indexOf(`\n${marker} `);
        const end = at < 0 ? -1 : text.indexOf('\n', at + 1 + marker.length);
        if (end >= 0) {
          this.#waiting = undefined;
          this.#buffer = text.slice(end + 1);
          resolve({ output: text.slice(0, at), status: Number(text.slice(at + 2 + marker.length, end)) });
        } else if (this.#failed) {
          this.#waiting = undefined;
          reject(this.#failed);
        }
      };
      this.#waiting = check;
      // printf's leading newline makes the marker findable after output without a final newline.
      this.#child.stdin!.write(`${quoted} 2>&1; printf '\\n%s %d\\n' '${marker}' $?\n`);
      check(this.#buffer);
    });
  }
}

let shell: ToolShell | undefined;

async function run(tool: string, args: readonly string[]): Promise<string> {
  shell ??= new ToolShell();
  const { status, output } = await shell.run(tool, args);
  if (status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${output.trim() || `exit status ${status}`}`);
  return output;
}

/**
 * The value exactly as stored: `-R` (raw), because plain xenstore-read prints `\` as `\\` and
 * non-printable bytes as escapes (agent messages are JSON, whose strings hold backslashes).
 */
export async function xsRead(path: string): Promise<string> {
  return run('xenstore-read', ['-R', path]);
}

/** undefined when the node does not exist (or cannot be read). */
export async function xsTryRead(path: string): Promise<string | undefined> {
  try {
    return await xsRead(path);
  } catch {
    return undefined;
  }
}

/** Stores `value` exactly: xenstore-write expands backslash escapes (`\\` -> `\`, `\"` -> `"`, `\n`), so backslashes are doubled. */
export async function xsWrite(path: string, value: string): Promise<void> {
  await run('xenstore-write', [path, value.replace(/\\/g, '\\\\')]);
}

export async function xsRm(path: string): Promise<void> {
  await run('xenstore-rm', [path]);
}

export async function xsList(path: string): Promise<string[]> {
  return (await run('xenstore-list', [path])).split('\n').filter((name) => name !== '');
}

/**
 * A long-lived `xenstore-watch PATH`: calls onChange(path) for every change at or below PATH
 * (and once at once, as xenstored fires every new watch).
 */
export class XsCliWatch {
  readonly #child: ChildProcess;

  constructor(path: string, onChange: (changedPath: string) => void) {
    this.#child = spawn('xenstore-watch', [path], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: this.#child.stdout! }).on('line', (line) => onChange(line.trim()));
  }

  close(): void {
    this.#child.kill();
  }
}
