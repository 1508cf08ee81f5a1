#!/bin/sh
# Runs in the rig's domU for `pnpm test:xen`: the peer agent that dom0's cross-domain tests drive
# through xenstore, compiled (build-tests.sh; packages from dist/). It runs until dom0 tells it to
# stop (or the domU is destroyed).
exec node test/xen/.compiled/test/xen/peer/peer-agent.js
