/**
 * xenstore through Xen's own command-line tools (xenstore-read/-write/-rm/-list/-watch, from
 * libxenstore). The cross-domain tests' control path between dom0 and the peer agent uses these,
 * not @xenipc/core's client, so a bug in the code under test cannot break the harness that tests
 * it. They work in dom0 (xenstored socket) and in a domU (/dev/xen/xenbus).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

function run(tool: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${tool} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
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
