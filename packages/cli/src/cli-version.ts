/**
 * The version of @xenipc/cli, from its own package.json (one directory above both src/ and
 * dist/, so this works from the sources and from the build alike).
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function cliVersion(): string {
  if (cached === undefined) {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cached = typeof manifest.version === 'string' ? manifest.version : 'unknown';
  }
  return cached;
}
