/**
 * The bench's C programs (the C ring, the cache-line round trip) are compiled at bench time with
 * the system C compiler (`cc`, or $CC): nothing is downloaded. Without a compiler the cells that
 * need one are skipped with a note.
 */
import { execFileSync } from 'node:child_process';

/** Compiles `source` to the executable `output`; returns its path, or why it could not. */
export function compileC(what: string, source: string, output: string, extraFlags: readonly string[] = []): { path: string } | { unavailable: string } {
  const cc = process.env.CC ?? 'cc';
  try {
    execFileSync(cc, ['-O2', '-std=gnu11', '-Wall', ...extraFlags, '-o', output, source], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { path: output };
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { unavailable: `${what} could not be built with ${cc}: ${detail}` };
  }
}
