#!/usr/bin/env bash
# test/xen/build-tests.sh: compiles the real-Xen tests, their helpers and the peer programs to
# JavaScript in test/xen/.compiled/ (the repo's layout mirrored below it), with their vitest
# imports pointed at suite/vitest-shim.mjs (see suite/rig-runner.mjs), so the rig runs plain
# JavaScript: no TypeScript transform per file under QEMU's TCG (that cost 10-40 s per test file).
# Workspace packages are used from their dist/ (run-suite.sh builds it). Types are not checked
# here (`pnpm typecheck` does that). Always a clean build: a stale compiled test of a renamed or
# deleted file must not run. ~3 s.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rm -rf "$ROOT/test/xen/.compiled"
node "$ROOT/node_modules/typescript/bin/tsc" -p "$ROOT/test/xen/tsconfig.build.json"
# `import ... from 'vitest'` -> the rig runner's stand-in (suite/vitest-shim.mjs).
node "$ROOT/test/xen/suite/link-vitest-shim.mjs" "$ROOT/test/xen/.compiled"
