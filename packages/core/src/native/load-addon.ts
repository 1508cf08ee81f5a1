/**
 * Finds and loads the native addon once, on first use, so that importing @xenipc/core works on
 * machines without it (until a device or mapping is used). The addon lives inside this package,
 * in the prebuildify layout: prebuilds/<platform>-<arch>/xenipc.napi.node, either shipped with the
 * package or put there by `xenipc-build-addon` (scripts/build-addon.mjs; in this repository
 * `pnpm build:native`).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { XenError } from '../xen-error.js';
import type { NativeAddon } from './native-addon.js';

/** Environment variable naming the addon file explicitly (overrides the search). */
export const ADDON_PATH_ENV = 'XENIPC_ADDON';

/** src/native/ and dist/native/ are both two levels below the package root. */
const PACKAGE_ROOT = new URL('../../', import.meta.url);

let loaded: NativeAddon | undefined;

export function addonCandidatePaths(): string[] {
  const override = process.env[ADDON_PATH_ENV];
  if (override !== undefined && override !== '') return [override];
  return [fileURLToPath(new URL(`prebuilds/${process.platform}-${process.arch}/xenipc.napi.node`, PACKAGE_ROOT))];
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
      message:
        `the xenipc native addon for ${process.platform}-${process.arch} is not built (looked for ${candidates.join(', ')}): ` +
        `run \`npx xenipc-build-addon\` (in the xenipc repository: \`pnpm build:native\`), or set ${ADDON_PATH_ENV} to the path of an addon`,
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
      message: `cannot load the xenipc native addon ${found} (${String(cause)}): rebuild it with \`npx xenipc-build-addon --force\``,
      cause,
    });
  }
  return loaded;
}
