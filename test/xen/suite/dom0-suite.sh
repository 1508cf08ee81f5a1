#!/bin/sh
# Runs in the rig's dom0 for `pnpm test:xen` (see run-suite.sh), in the project dir: every test
# that needs real Xen, compiled to JavaScript on the host (build-tests.sh), one file after the
# other in one node process (suite/rig-runner.mjs: vitest's test API without vitest's start-up
# cost under TCG). Results stream per test to the console and to $XENIPC_OUT/results.log. The
# peer agent runs in the domU (suite/domu-peer.sh); cross-domain tests find it with
# `xenipc-domu id` (the domU is still being created as the run starts), or through
# XENIPC_PEER_DOMID if set. XENIPC_XEN_FILTER (see run-suite.sh): file filters, split on spaces.
: > "$XENIPC_OUT/results.log"

# Stall watchdog: when results.log has not grown for XENIPC_XEN_STALL_S seconds (default 300,
# beyond the kernels' 120 s hung-task reports), print once per stall what a hang needs to be
# understood: every dom0 process with its state and wait channel (and the kernel stack of those
# in D state), the dom0 kernel's blocked tasks (sysrq w), whether xenstored still answers, still
# runs and what it logged, and the end of the domU's console (its kernel's hung-task reports, the
# agent's output). The run goes on; the boot timeout still ends it.
say() { echo "@@XENIPC-TEST console watchdog: $*"; }
# Each line of stdin, said with the prefix $1.
say_lines() { while IFS= read -r l; do say "$1$l"; done; }
# A process's state letter (R, S, D...) from /proc/<pid>/stat.
proc_state() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1; }
stall_report() {
  say "no test progress for $1 s; dom0 processes (pid state wait-channel command):"
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null | cut -c1-160)
    [ -n "$cmd" ] || continue
    state=$(proc_state "${p#/proc/}")
    say "  ${p#/proc/} $state $(cat "$p/wchan" 2>/dev/null) $cmd"
    [ "$state" = D ] && say_lines "    " 2> /dev/null < "$p/stack"
  done
  if timeout 5 xenstore-read /local/domain/0/name > /dev/null 2>&1; then say "xenstored answers dom0"; else say "xenstored does NOT answer dom0 within 5 s"; fi
  pid=$(cat /var/run/xen/xenstored.pid 2>/dev/null)
  if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then say "xenstored (pid $pid) is running, state $(proc_state "$pid")"; else say "xenstored (pid ${pid:-?}) is GONE"; fi
  say "xenstored's log (/var/log/xen/xenstored.log), last lines:"
  tail -n 20 /var/log/xen/xenstored.log 2>/dev/null | say_lines "  [xenstored] "
  if [ -f /var/log/xen/xenstored-trace.log ]; then
    say "xenstored's trace (XENIPC_XENSTORED_TRACE=1), last lines:"
    tail -n 60 /var/log/xen/xenstored-trace.log | cut -c1-240 | say_lines "  [trace] "
  fi
  echo w > /proc/sysrq-trigger 2>/dev/null
  say "dom0 kernel, last lines (blocked tasks after sysrq w):"
  dmesg 2>/dev/null | tail -n 60 | say_lines "  [dom0] "
  say "domU console, last lines:"
  timeout 5 xenipc-domu log 2>/dev/null | tail -n 80 | say_lines "  [domU] "
}
watchdog() {
  limit=${XENIPC_XEN_STALL_S:-300}
  last=-1 idle=0 reported=0
  while sleep 15 > /dev/null 2>&1; do
    size=$(wc -c < "$XENIPC_OUT/results.log")
    if [ "$size" != "$last" ]; then last=$size idle=0 reported=0; continue; fi
    idle=$((idle + 15))
    if [ $idle -ge "$limit" ] && [ $reported = 0 ]; then reported=1; stall_report $idle; fi
  done
}
watchdog &
dog=$!

# shellcheck disable=SC2086
node test/xen/suite/rig-runner.mjs ${XENIPC_XEN_FILTER:-}
rc=$?
kill $dog 2>/dev/null
exit $rc
