/**
 * The simulated host needs the native addon (memfd). Other work in the same checkout may rebuild
 * it (node-gyp deletes build/ first) while the benchmark runs; a private copy, named through
 * XENIPC_ADDON (which the workers inherit), keeps a run from failing half-way.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILT_ADDON = fileURLToPath(new URL('../../build/Release/xenipc.node', import.meta.url));
const WAIT_FOR_BUILD_MS = 60_000;

/** Copies the built addon into `dir` and points XENIPC_ADDON at it, unless already set. */
export async function usePrivateAddonCopy(dir: string): Promise<void> {
  if (process.env.XENIPC_ADDON) return;
  const deadline = Date.now() + WAIT_FOR_BUILD_MS;
  while (!existsSync(BUILT_ADDON)) {
    if (Date.now() > deadline) throw new Error(`no native addon at ${BUILT_ADDON} (run pnpm build:native)`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const copy = join(dir, 'xenipc.node');
  copyFileSync(BUILT_ADDON, copy);
  process.env.XENIPC_ADDON = copy;
}
