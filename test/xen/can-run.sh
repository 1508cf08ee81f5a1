#!/usr/bin/env bash
# test/xen/can-run.sh: exit 0 if this machine can run the real-Xen suite (`pnpm test:xen`), i.e.
# it is x86_64, has node, and either has QEMU + the rig's images/packages already or can get them
# from Debian bookworm's apt sources (build-rig.sh installs/downloads what is missing).
# Prints the reason when it cannot. May run `apt-get update` once if the package lists are empty.
set -uo pipefail
no() { echo "can-run: no: $*" >&2; exit 1; }
[ "$(uname -m)" = x86_64 ] || no "not x86_64 ($(uname -m))"
command -v node > /dev/null || no "no node"
# QEMU's RSS reaches ~1.5 GB during the suite (3 GB guest RAM, touched as used).
avail_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
[ "${avail_kb:-0}" -ge 2000000 ] || no "less than 2 GB of memory available"
RIG_DIR=${XENIPC_RIG_DIR:-/tmp/xenipc-rig}
command -v apt-get > /dev/null || { [ -f "$RIG_DIR/images/.key" ] && command -v qemu-system-x86_64 > /dev/null; } \
  || no "no apt-get, and no QEMU with built images"
# Host tools and guest packages must be installable/downloadable unless already there.
# The whole output is read before matching: `apt-cache policy X | grep -q` under pipefail fails
# whenever grep exits at the first match while apt-cache is still writing (SIGPIPE, status 141).
has_candidate() {
  local policy
  policy=$(apt-cache policy "$1" 2>/dev/null) || return 1
  [[ $policy =~ Candidate:\ [0-9] ]]
}
needs=""
[ -f "$RIG_DIR/images/.key" ] || needs="xen-hypervisor-4.17-amd64 linux-image-amd64"
command -v qemu-system-x86_64 > /dev/null || needs="$needs qemu-system-x86"
for p in $needs; do
  has_candidate "$p" && continue
  [ "$(id -u)" = 0 ] && apt-get update -qq > /dev/null 2>&1
  has_candidate "$p" || no "apt has no $p (Debian bookworm sources needed)"
done
[ "$(id -u)" = 0 ] || command -v qemu-system-x86_64 > /dev/null || no "QEMU missing and not root (cannot apt-get install)"
exit 0
