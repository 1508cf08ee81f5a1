#!/bin/sh
# Runs in the rig's dom0 for `pnpm test:xen` (see run-suite.sh), in the project dir: every test
# that needs real Xen, in one vitest run. The peer agent runs in the domU (suite/domu-peer.sh);
# cross-domain tests find it through XENIPC_PEER_DOMID.
export XENIPC_PEER_DOMID="${XENIPC_DOMU_ID:-}"
[ -n "$XENIPC_PEER_DOMID" ] || echo "dom0-suite: no domU: cross-domain tests will fail"
node node_modules/vitest/vitest.mjs run --config test/xen/vitest.xen.config.ts \
  --reporter=verbose --reporter=json --outputFile.json="$XENIPC_OUT/vitest.json"
