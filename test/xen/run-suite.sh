#!/usr/bin/env bash
# test/xen/run-suite.sh (`pnpm test:xen`): the real-Xen test suite.
#   1. builds the native addon / dist if missing or stale (XENIPC_XEN_SKIP_BUILD=1: don't),
#   2. builds the rig's images if needed (build-rig.sh; cached),
#   3. boots Xen once under QEMU: a domU runs the peer agent (suite/domu-peer.sh) and dom0 runs
#      every real-Xen test in one vitest run (suite/dom0-suite.sh, vitest.xen.config.ts):
#      all `*.xen.test.ts` files of the repo and test/xen/**,
#   4. prints each result and a summary; exits non-zero if anything failed or the rig broke.
# Env: XENIPC_XEN_TIMEOUT (s, whole boot, default 900: ~11 min measured at load 4 with the stack tests), XENIPC_RIG_DIR (cache, /tmp/xenipc-rig),
#      XENIPC_XEN_RESULTS (dir for vitest.json, command.log, domu-console.log; default a run dir),
#      XENIPC_XEN_FILTER (vitest file filters, space-separated, e.g. "cross-domain/stack-": only
#      the test files whose path contains one of them; default: all).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
T0=$SECONDS
log() { echo "test:xen: $*" >&2; }

if [ "${XENIPC_XEN_SKIP_BUILD:-0}" != 1 ]; then
  addon=build/Release/xenipc.node
  if [ ! -f "$addon" ] || [ -n "$(find native binding.gyp -newer "$addon" 2>/dev/null | head -1)" ]; then
    log "building the native addon"; pnpm run -s build:native > /dev/null
  fi
  dist_missing=0
  for p in packages/*/; do [ -d "$p/dist" ] || dist_missing=1; done
  if [ "$dist_missing" = 1 ]; then
    log "building dist"; pnpm run -s build:ts
  fi
fi

"$HERE/build-rig.sh" || { log "cannot build the rig"; exit 1; }
log "rig ready ($((SECONDS - T0)) s); booting Xen"

RESULTS=${XENIPC_XEN_RESULTS:-$(mktemp -d "${TMPDIR:-/tmp}/xenipc-xen-results.XXXXXX")}
mkdir -p "$RESULTS"
T1=$SECONDS
set +e
XENIPC_RIG_TIMINGS=1 "$HERE/run-in-xen.sh" --timeout "${XENIPC_XEN_TIMEOUT:-900}" --out "$RESULTS" \
  --env "XENIPC_XEN_FILTER=${XENIPC_XEN_FILTER:-}" \
  --domu "sh test/xen/suite/domu-peer.sh" -- sh test/xen/suite/dom0-suite.sh
rc=$?
set -e
log "Xen run: $((SECONDS - T1)) s (exit $rc); results in $RESULTS"

if [ -f "$RESULTS/vitest.json" ]; then
  node "$HERE/suite/print-summary.mjs" "$RESULTS/vitest.json" || { [ "$rc" = 0 ] && rc=1; }
else
  log "no vitest results from dom0"; [ "$rc" = 0 ] && rc=1
fi
if [ "$rc" != 0 ] && [ -f "$RESULTS/domu-console.log" ]; then
  log "domU console (peer agent):"; sed 's/^/  [domU] /' "$RESULTS/domu-console.log" | tail -n 60 >&2
fi
log "total $((SECONDS - T0)) s"
exit "$rc"
