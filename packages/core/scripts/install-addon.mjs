/**
 * @xenipc/core's install script. A published package carries a prebuilt addon for linux-x64
 * (prebuilds/); where none fits this platform, or it does not load, the addon is built from the
 * sources the package carries (native/, binding.gyp). In the source repository (no binding.gyp in
 * this package) there is nothing to do: the repository's `pnpm build:native` builds it.
 * npm 11 runs a dependency's install script only once allowed (`npm install-scripts approve
 * @xenipc/core`); without it, `npx xenipc-build-addon` does the same later.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildAddon, PACKAGE_ROOT, PREBUILD_PATH } from './build-addon.mjs';

function loads(path) {
  try {
    process.dlopen({ exports: {} }, path);
    return true;
  } catch {
    return false;
  }
}

if (existsSync(join(PACKAGE_ROOT, 'binding.gyp')) && !(existsSync(PREBUILD_PATH) && loads(PREBUILD_PATH))) {
  buildAddon({ force: true });
}
