#!/bin/sh
# Runs in the rig's dom0 for `pnpm test:xen` (see run-suite.sh), in the project dir: every test
# that needs real Xen, in one vitest run. The peer agent runs in the domU (suite/domu-peer.sh);
# cross-domain tests find it with `xenipc-domu id` (the domU is still being created as vitest
# starts), or through XENIPC_PEER_DOMID if set. XENIPC_XEN_FILTER (see run-suite.sh): vitest's
# file filters, split on spaces.
# shellcheck disable=SC2086
node node_modules/vitest/vitest.mjs run --config test/xen/vitest.xen.config.ts \
  --reporter=verbose --reporter=json --outputFile.json="$XENIPC_OUT/vitest.json" ${XENIPC_XEN_FILTER:-}
