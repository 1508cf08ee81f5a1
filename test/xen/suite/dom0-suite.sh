#!/bin/sh
# Runs in the rig's dom0 for `pnpm test:xen` (see run-suite.sh), in the project dir: every test
# that needs real Xen, compiled to JavaScript on the host (build-tests.sh), one file after the
# other in one node process (suite/rig-runner.mjs: vitest's test API without vitest's start-up
# cost under TCG). Results stream per test to the console and to $XENIPC_OUT/results.log. The
# peer agent runs in the domU (suite/domu-peer.sh); cross-domain tests find it with
# `xenipc-domu id` (the domU is still being created as the run starts), or through
# XENIPC_PEER_DOMID if set. XENIPC_XEN_FILTER (see run-suite.sh): file filters, split on spaces.
: > "$XENIPC_OUT/results.log"
# shellcheck disable=SC2086
exec node test/xen/suite/rig-runner.mjs ${XENIPC_XEN_FILTER:-}
