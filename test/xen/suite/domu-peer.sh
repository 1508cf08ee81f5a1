#!/bin/sh
# Runs in the rig's domU for `pnpm test:xen`: the peer agent that dom0's cross-domain tests drive
# through xenstore, compiled (build-tests.sh; packages from dist/). It runs until dom0 tells it to
# stop (or the domU is destroyed).
# A kernel task stuck for 20 s is reported with its stack on the console, where the runner
# (rig-runner.mjs) shows it after a failed file: a hung domU explains itself.
echo 7 > /proc/sys/kernel/printk
echo 20 > /proc/sys/kernel/hung_task_timeout_secs
exec node test/xen/.compiled/test/xen/peer/peer-agent.js
