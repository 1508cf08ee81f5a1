#!/usr/bin/env bash
# examples/ping-pong/scripts/run-on-xen-rig.sh: ping-pong and `xenipc` file transfers across two
# real Xen domains, in the QEMU rig of test/xen (dom0 <-> a PV domU; ~6 min under TCG).
#   pnpm build && bash examples/ping-pong/scripts/run-on-xen-rig.sh [--count N]
# Prints both domains' output; exits non-zero if any step failed. Run it on an otherwise idle
# machine: with several QEMU instances at once, processes in the guests crashed at random.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
COUNT=3000
[ "${1:-}" = --count ] && COUNT=$2
[ -f "$ROOT/build/Release/xenipc.node" ] && [ -f "$ROOT/examples/ping-pong/dist/main.js" ] || { echo "run pnpm build first" >&2; exit 2; }

# Both scripts run in the project dir; the patterned file is the same in both domains, so each
# side checks what it received against its own copy.
DOMU='set -u; fail=0; X="node packages/cli/bin/xenipc.js"; G="node examples/ping-pong/scripts/patterned-file.mjs"
$X doctor || fail=1
$G /tmp/expected.bin 2048
$X listen 0 xfer-in -d --backend xen > /tmp/got.bin || fail=1
cmp /tmp/expected.bin /tmp/got.bin && echo "domU: 8 MiB from dom0 byte-exact" || fail=1
sleep 2; $X connect 0 xfer-out --backend xen --timeout 120000 < /tmp/expected.bin || fail=1
node examples/ping-pong/dist/main.js --backend xen --role server --peer 0 --connect-timeout 120000 || fail=1
exit $fail'

DOM0='set -u; fail=0; X="node packages/cli/bin/xenipc.js"; G="node examples/ping-pong/scripts/patterned-file.mjs"
$X doctor || fail=1
xenipc-domu wait-ready || fail=1
$G /tmp/expected.bin 2048
$X connect "$XENIPC_DOMU_ID" xfer-in --backend xen --timeout 120000 < /tmp/expected.bin || fail=1
$X listen "$XENIPC_DOMU_ID" xfer-out -d --backend xen > /tmp/got.bin || fail=1
cmp /tmp/expected.bin /tmp/got.bin && echo "dom0: 8 MiB from domU byte-exact" || fail=1
node examples/ping-pong/dist/main.js --backend xen --role client --peer "$XENIPC_DOMU_ID" --count '"$COUNT"' --connect-timeout 120000 || fail=1
xenipc-domu wait-exit 300 || { echo "domU steps failed"; fail=1; }
echo "---- domU console ----"; xenipc-domu log | grep -v "^\[ *[0-9.]*\]" | tail -40
exit $fail'

# run-in-xen writes each command line to a file that the guest runs with sh: scripts pass as is.
exec bash "$ROOT/test/xen/run-in-xen.sh" --timeout 900 --domu "$DOMU" -- "$DOM0"
