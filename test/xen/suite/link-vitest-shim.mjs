// build-tests.sh, after compiling: points the compiled files' `from 'vitest'` at
// suite/vitest-shim.mjs (relative paths), so the rig's runner needs no module hooks (Node runs
// those on an extra thread: seconds of start-up under TCG). Usage: link-vitest-shim.mjs DIR
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const shim = fileURLToPath(new URL('./vitest-shim.mjs', import.meta.url));
const VITEST_IMPORT = /(\bfrom\s*|\bimport\s*)(['"])vitest\2/g;

function visit(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) visit(path);
    else if (entry.name.endsWith('.js')) {
      const text = readFileSync(path, 'utf8');
      let rel = relative(dirname(path), shim);
      if (!rel.startsWith('.')) rel = `./${rel}`;
      const linked = text.replace(VITEST_IMPORT, (_m, keyword, quote) => `${keyword}${quote}${rel}${quote}`);
      if (linked !== text) writeFileSync(path, linked);
    }
  }
}
visit(resolve(process.argv[2]));
