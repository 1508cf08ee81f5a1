/**
 * Finds and loads build/Release/xenipc.node once, on first use, so that importing @xenipc/core
 * works on machines without the addon (the simulated and loopback backends need none).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { XenError } from '../xen-error.js';
import type { NativeAddon } from './native-addon.js';

/** Environment variable naming the addon file explicitly (overrides the search). */
export const ADDON_PATH_ENV = 'XENIPC_ADDON';

/**
 * Where the addon can be relative to this module: src/native/ and dist/native/ both sit four
 * levels below the repository root, where `pnpm build:native` writes build/Release/.
 */
const CANDIDATES: readonly string[] = [
  '../../../../build/Release/xenipc.node',
  '../../build/Release/xenipc.node',
  '../../../../build/Debug/xenipc.node',
];

let loaded: NativeAddon | undefined;

export function addonCandidatePaths(): string[] {
  const override = process.env[ADDON_PATH_ENV];
  if (override !== undefined && override !== '') return [override];
  return CANDIDATES.map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
}

export function loadAddon(): NativeAddon {
  if (loaded !== undefined) return loaded;
  const candidates = addonCandidatePaths();
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new XenError({
      code: 'ENOENT',
      syscall: 'dlopen',
      path: candidates[0],
      message: `the xenipc native addon is not built (looked for ${candidates.join(', ')}): run \`pnpm build:native\`` +
        ` or set ${ADDON_PATH_ENV} to the path of xenipc.node`,
    });
  }
  const require = createRequire(import.meta.url);
  try {
    loaded = require(found) as NativeAddon;
  } catch (cause) {
    throw new XenError({
      code: 'ENOEXEC',
      syscall: 'dlopen',
      path: found,
      message: `cannot load the xenipc native addon ${found} (${String(cause)}): rebuild it with \`pnpm build:native\``,
      cause,
    });
  }
  return loaded;
}
