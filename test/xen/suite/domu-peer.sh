#!/bin/sh
# Runs in the rig's domU for `pnpm test:xen`: the peer agent that dom0's cross-domain tests drive
# through xenstore. It runs until dom0 tells it to stop (or the domU is destroyed).
exec node --conditions=xenipc-source --import tsx test/xen/peer/peer-agent.ts
