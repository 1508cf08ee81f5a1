/**
 * prepack/postpack of @xenipc/core: the addon's sources live at the repository root (native/,
 * binding.gyp); the package carries a copy, so that an install on a platform without a prebuilt
 * binary can build one. `copy` also checks that this platform's prebuilt addon is there.
 */
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT, PREBUILD_PATH } from './build-addon.mjs';

const REPO_ROOT = join(PACKAGE_ROOT, '..', '..');
const COPIED = ['native', 'binding.gyp'];

const action = process.argv[2];
if (action === 'copy') {
  if (!existsSync(PREBUILD_PATH)) {
    process.stderr.write(`@xenipc/core: no prebuilt addon at ${PREBUILD_PATH}: run \`pnpm build:native\` before packing\n`);
    process.exit(1);
  }
  for (const name of COPIED) cpSync(join(REPO_ROOT, name), join(PACKAGE_ROOT, name), { recursive: true });
} else if (action === 'remove') {
  for (const name of COPIED) rmSync(join(PACKAGE_ROOT, name), { recursive: true, force: true });
} else {
  process.stderr.write('usage: pack-native-sources.mjs copy|remove\n');
  process.exit(2);
}
