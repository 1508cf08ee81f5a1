#!/usr/bin/env bash
# test/xen/run-suite.sh (`pnpm test:xen`): the real-Xen test suite.
#   1. builds the native addon / dist if missing or stale (XENIPC_XEN_SKIP_BUILD=1: don't), and
#      compiles the tests to JavaScript (build-tests.sh: nothing is transformed under TCG),
#   2. builds the rig's images if needed (build-rig.sh; cached),
#   3. boots Xen once under QEMU: a domU runs the peer agent (suite/domu-peer.sh) and dom0 runs
#      every real-Xen test (test/xen/**/*.xen.test.ts) in one vitest run with one worker
#      (suite/dom0-suite.sh, vitest.xen.config.ts); each test's start and result stream to the
#      console as they happen (suite/stream-reporter.mjs) and are printed here as they arrive,
#   4. prints each result and a summary (suite/print-summary.mjs): from dom0's results.log, or,
#      if the run was cut short (timeout, hang, crash), from the console captured so far: what
#      passed, what failed, and which tests were still running (UNFINISHED).
#   Exits non-zero if anything failed or did not finish, or the rig broke.
# Env: XENIPC_XEN_TIMEOUT (s, whole boot, default 1500: ~300 s quiet, ~310-340 s at load 4 with QEMU at nice -10 as root, 3-5x without), XENIPC_RIG_DIR (cache, /tmp/xenipc-rig),
#      XENIPC_XEN_RESULTS (dir for results.log, console.log, command.log, domu-console.log;
#      default a new temp dir), XENIPC_XEN_FILTER (vitest file filters, space-separated, e.g.
#      "cross-domain/stack-": only the test files whose path contains one of them; default: all),
#      XENIPC_XEN_HANG=1 (run smoke/deliberate-hang.xen.test.ts, a test that never ends),
#      XENIPC_XEN_LEDGER_CHANNELS (channels per role of cross-domain/resource-ledger, default 100),
#      XENIPC_XEN_INTEROP_BYTES (bytes each way per interop case, default 4 MiB).
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

"$HERE/build-tests.sh" || { log "cannot compile the tests"; exit 1; }
"$HERE/build-rig.sh" || { log "cannot build the rig"; exit 1; }
log "rig ready ($((SECONDS - T0)) s); booting Xen"

RESULTS=${XENIPC_XEN_RESULTS:-$(mktemp -d "${TMPDIR:-/tmp}/xenipc-xen-results.XXXXXX")}
mkdir -p "$RESULTS"
rm -f "$RESULTS/results.log" "$RESULTS/console.log"
T1=$SECONDS
guest_env=()
for var in XENIPC_XEN_FILTER XENIPC_XEN_HANG XENIPC_XEN_LEDGER_CHANNELS XENIPC_XEN_INTEROP_BYTES XENIPC_XENSTORED_TRACE; do
  if [ -n "${!var:-}" ]; then guest_env+=(--env "$var=${!var}"); fi
done
# The domU runs only compiled JavaScript: the build and test tools (~90 MB the domU kernel would
# unpack into RAM under TCG at every boot) stay out of its ramdisk. dom0 reads the project from
# an uncompressed squashfs and gets everything.
domu_leave_out=()
for glob in 'node_modules/.pnpm/typescript@*' 'node_modules/.pnpm/@rolldown+*' 'node_modules/.pnpm/rolldown@*' \
  'node_modules/.pnpm/@esbuild+*' 'node_modules/.pnpm/esbuild@*' 'node_modules/.pnpm/lightningcss*' \
  'node_modules/.pnpm/vite@*' 'node_modules/.pnpm/vitest@*' 'node_modules/.pnpm/@vitest+*' 'node_modules/.pnpm/tsx@*' \
  'node_modules/.pnpm/@types+*' 'node_modules/.pnpm/node-gyp@*' 'node_modules/.pnpm/undici*' 'node_modules/.pnpm/@oxc-project+*' \
  'packages/*/src' 'packages/*/test' 'native' 'bench' 'build/Release/obj.target' 'build/Release/.deps'; do
  domu_leave_out+=(--domu-leave-out "$glob")
done
set +e
# dom0's output as it arrives, kept for the summary in case the run is cut short.
XENIPC_RIG_TIMINGS=1 "$HERE/run-in-xen.sh" --timeout "${XENIPC_XEN_TIMEOUT:-1500}" --out "$RESULTS" "${guest_env[@]}" \
  "${domu_leave_out[@]}" --domu "sh test/xen/suite/domu-peer.sh" -- sh test/xen/suite/dom0-suite.sh | tee "$RESULTS/console.log"
rc=${PIPESTATUS[0]}
set -e
log "Xen run: $((SECONDS - T1)) s (exit $rc); results in $RESULTS"

if [ -s "$RESULTS/results.log" ]; then results=$RESULTS/results.log
else results=$RESULTS/console.log; log "no results.log from dom0 (run cut short?): summary from the console"; fi
node "$HERE/suite/print-summary.mjs" "$results" || { [ "$rc" = 0 ] && rc=1; }
if [ "$rc" != 0 ] && [ -f "$RESULTS/domu-console.log" ]; then
  log "domU console (peer agent):"; sed 's/^/  [domU] /' "$RESULTS/domu-console.log" | tail -n 60 >&2
fi
log "total $((SECONDS - T0)) s; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$rc"
