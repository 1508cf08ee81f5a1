#!/usr/bin/env bash
# test/xen/run-in-xen.sh [options] [--] COMMAND...
#
# Boots Xen 4.17 + the Linux PV dom0 under QEMU (TCG) from the images of build-rig.sh and runs
# COMMAND (a shell command line) as root in dom0, in the project dir; exits with its status.
# The project (default: this checkout, incl. node_modules, build/, dist/; without .git) is copied
# into dom0 -- and into the domU, if any -- at the same absolute path as on the host.
#
# Options:
#   --domu CMD       also start a PV domU running CMD (shell, in the project dir) with node and the
#                    project. It is created in the background; in dom0, COMMAND can use
#                    `xenipc-domu id` (waits, prints its domid), `xenipc-domu wait-ready`,
#                    `xenipc-domu wait-exit [SECS]` (exit status of CMD), `xenipc-domu log`
#   --domu-leave-out GLOB  leave project paths matching GLOB (relative to the project, find -path
#                    syntax, e.g. 'node_modules/.pnpm/typescript@*') out of the domU's ramdisk,
#                    which the domU kernel unpacks under TCG; repeatable
#   --project DIR    the checkout to copy (default: the one holding this script)
#   --env K=V        environment variable for COMMAND (and CMD); repeatable
#   --timeout SECS   whole run, boot to poweroff (default 600); 124 on timeout
#   --out DIR        copy dom0's /out here afterwards: command.log (COMMAND's output), status,
#                    domu-console.log, and whatever COMMAND writes to $XENIPC_OUT
#   --verbose        stream the whole serial console (Xen, kernels), not only COMMAND's output
# Environment: XENIPC_RIG_DIR (default /tmp/xenipc-rig), XENIPC_RIG_TIMINGS=1 (boot stage timings
# on stderr), XENIPC_QEMU_MEM (MB, default 3584: dom0, the domU and a 512 MB second domU that
# one test creates), XENIPC_DOM0_MEM (MB, default 1536),
# XENIPC_QEMU_CPU (default max,-smap,-xsave: see the comment at -cpu), XENIPC_QEMU_ACCEL,
# XENIPC_QEMU_NICE (default -10 as root, else 0: see the comment at the QEMU launch).
# Exit status: COMMAND's; 124 timeout; 125 the rig failed (no status from dom0).
# The serial console, with host timestamps: $XENIPC_RIG_DIR/runs/<id>/serial.log (last 5 runs kept).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RIG_DIR=$(realpath -m "${XENIPC_RIG_DIR:-/tmp/xenipc-rig}")
PROJECT=$(cd "$HERE/../.." && pwd)
DOMU_CMD= TIMEOUT=600 OUT_DIR= VERBOSE=0
ENV_VARS=()
DOMU_PRUNE=()
usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --domu) DOMU_CMD=$2; shift 2 ;;
    --project) PROJECT=$(realpath "$2"); shift 2 ;;
    --domu-leave-out) DOMU_PRUNE+=("$2"); shift 2 ;;
    --env) ENV_VARS+=("$2"); shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --out) OUT_DIR=$2; shift 2 ;;
    --verbose) VERBOSE=1; shift ;;
    --) shift; break ;;
    -h|--help) usage ;;
    -*) echo "run-in-xen: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
IMAGES="$RIG_DIR/images"
[ -f "$IMAGES/.key" ] || { echo "run-in-xen: no images in $IMAGES: run test/xen/build-rig.sh" >&2; exit 125; }

# ---------------------------------------------------------------------------------------- job disk
mkdir -p "$RIG_DIR/runs"
RUN=$(mktemp -d "$RIG_DIR/runs/$(date +%H%M%S).XXXX")
(cd "$RIG_DIR/runs" && ls -1dt -- */ | tail -n +6 | xargs -r rm -rf)   # keep the last 5 runs
JOB="$RUN/xenipc-job"
mkdir -p "$JOB"
printf '%s\n' "$*" > "$JOB/cmd"
[ -n "$DOMU_CMD" ] && printf '%s\n' "$DOMU_CMD" > "$JOB/domu-cmd"
{
  printf 'export XENIPC_PROJECT=%q XENIPC_PROJECT_NAME=%q\n' "$PROJECT" "$(basename "$PROJECT")"
  for kv in "${ENV_VARS[@]}"; do printf 'export %q\n' "$kv"; done
} > "$JOB/env"
# The domU's ramdisk: the rig's base (busybox, node, xenstore tools) + the job and the project,
# as a second LZ4 cpio archive (the kernel unpacks both).
if [ -n "$DOMU_CMD" ]; then
  mkdir -p "$RUN/domu-stage/opt/job" && cp -a "$JOB" "$RUN/domu-stage/opt/job/"
  project_parents() { local p=${PROJECT#/}; while p=$(dirname "$p") && [ "$p" != . ]; do echo "$p"; done | sort; }
  { (cd "$RUN/domu-stage" && find opt | cpio -o -H newc -R 0:0 --quiet)
    prune=(-path "${PROJECT#/}/.git" -prune)
    for glob in "${DOMU_PRUNE[@]}"; do prune+=(-o -path "${PROJECT#/}/$glob" -prune); done
    (cd / && { project_parents; find "${PROJECT#/}" "${prune[@]}" -o -print; } | cpio -o -H newc -R 0:0 --quiet); } \
    | lz4 -l -q > "$RUN/domu-job.cpio.lz4" || { echo "run-in-xen: cannot pack the domU's ramdisk" >&2; exit 125; }
  cat "$IMAGES/domu-base.cpio.lz4" "$RUN/domu-job.cpio.lz4" > "$JOB/domu-ramdisk"
  rm -rf "$RUN/domu-stage" "$RUN/domu-job.cpio.lz4"
fi
# The job disk: a squashfs with xenipc-job/ and the project (uncompressed: nothing to inflate
# under TCG; ~0.2 s to make here). Symlinks (pnpm's node_modules) are kept as they are; they all
# point inside the tree.
mksquashfs "$JOB" "$PROJECT" "$RUN/job.squashfs" -noappend -noI -noD -noF -noX -all-root -quiet \
  -wildcards -e "$(basename "$PROJECT")/.git" "$(basename "$PROJECT")/.xenrig" > "$RUN/mksquashfs.log" 2>&1 \
  || { echo "run-in-xen: cannot pack $PROJECT (see $RUN/mksquashfs.log)" >&2; exit 125; }
truncate -s 256M "$RUN/out.img"

# ------------------------------------------------------------------------------------------- QEMU
# bootscrub=0: Xen would otherwise touch all guest RAM at boot (slow under TCG, 2-3x the host RSS).
# serial_tx_buffer: Xen drops console characters when its serial buffer fills.
XEN_ARGS="console=com1 com1=115200,8n1 dom0_mem=${XENIPC_DOM0_MEM:-1536}M,max:${XENIPC_DOM0_MEM:-1536}M"
XEN_ARGS+=" dom0_max_vcpus=2 noreboot bootscrub=0 serial_tx_buffer=1M loglvl=all guest_loglvl=all"
DOM0_ARGS="console=hvc0 earlyprintk=xen panic=-1"
[ "$VERBOSE" = 1 ] || DOM0_ARGS+=" quiet"
QEMU=(qemu-system-x86_64 -machine pc -accel "${XENIPC_QEMU_ACCEL:-tcg,thread=multi}"
  # -smap: with SMAP the PV dom0 faults in Xen's create_bounce_frame under TCG.
  # -xsave: with XSAVE (so AVX in glibc/V8), dom0 processes read garbage file contents, segfault
  # and abort in malloc as soon as a domU runs next to dom0 (register state corrupted across
  # domain switches under TCG); without it, runs are clean. KVM is not usable on this machine.
  -cpu "${XENIPC_QEMU_CPU:-max,-smap,-xsave}" -smp 2 -m "${XENIPC_QEMU_MEM:-3584}"
  -nographic -no-reboot -monitor none -serial stdio
  -device isa-debug-exit,iobase=0xf4,iosize=0x04
  -kernel "$IMAGES/xen" -append "$XEN_ARGS"
  -initrd "$IMAGES/vmlinux $DOM0_ARGS,$IMAGES/dom0.cpio"
  -drive "file=$IMAGES/sys.squashfs,if=none,id=sys,format=raw,readonly=on" -device virtio-blk-pci,drive=sys,serial=xenipc-sys
  -drive "file=$RUN/job.squashfs,if=none,id=job,format=raw,readonly=on" -device virtio-blk-pci,drive=job,serial=xenipc-job
  -drive "file=$RUN/out.img,if=none,id=out,format=raw" -device virtio-blk-pci,drive=out,serial=xenipc-out)

# Priority: the emulated machine is one time-critical program (two vCPU threads whose guests spin
# on each other's locks and time out on each other's watchdogs); on a host busy with other work
# at equal priority, a descheduled vCPU stalls the whole guest: the full suite once took ~19 min
# at load 4 on 2 cores against ~5 min idle. As root (CI) QEMU runs at nice -10 and keeps most
# of the CPU time it competes for (measured: 131 % of 2 cores against two `yes` hogs at 38 %
# each; the suite in 339 s at load ~3.5, 286 s idle). XENIPC_QEMU_NICE=0 turns that off; without
# the privilege, nice warns and runs QEMU at the normal priority.
QEMU_NICE=${XENIPC_QEMU_NICE:-$([ "$EUID" = 0 ] && echo -10 || echo 0)}
NICE=()
[ "$QEMU_NICE" = 0 ] || NICE=(nice -n "$QEMU_NICE")

# Console filter: COMMAND's output (between the command markers) to stdout, the rig's own
# complaints to stderr, everything into serial.log with seconds since QEMU start.
START=$EPOCHREALTIME
elapsed() { local now=$EPOCHREALTIME us; us=$(( ${now/./} - ${START/./} )); printf '%d.%02d' $((us / 1000000)) $((us / 10000 % 100)); }
LOG="$RUN/serial.log"
rc=125 in_command=0 stages=""
while IFS= read -r line; do
  line=${line//$'\r'/}
  t=$(elapsed)
  printf '[%s] %s\n' "$t" "$line" >> "$LOG"
  case $line in
    *"@@XENIPC command-begin"*) in_command=1; stages+=" command-begin=${t}s"; continue ;;
    *"@@XENIPC command-end rc="*) in_command=0; rc=${line##*rc=}; rc=${rc%%[!0-9]*}; stages+=" command-end=${t}s"; continue ;;
    *"@@XENIPC stage "*) read -r _ _ name uptime _ <<< "$line"; stages+=" $name=${t}s(uptime ${uptime}s)" ;;
    *"@@XENIPC memory "*) stages+=" ${line#*@@XENIPC memory }" ;;
    xenipc-rig:*) [ $in_command = 1 ] || echo "$line" >&2 ;;
    "(XEN)"*) [ "$VERBOSE" = 1 ] || continue ;;
  esac
  if [ "$VERBOSE" = 1 ]; then printf '[%s] %s\n' "$t" "$line"; elif [ $in_command = 1 ]; then printf '%s\n' "$line"; fi
done < <(timeout -k 10 "$TIMEOUT" "${NICE[@]}" "${QEMU[@]}" 2>&1; echo "@@QEMU-EXIT $?")
qemu_rc=$(sed -n 's/.*@@QEMU-EXIT \([0-9]*\).*/\1/p' "$LOG" | tail -1)

mkdir -p "$RUN/out"
tar -x -f "$RUN/out.img" -C "$RUN/out" 2> /dev/null
rm -f "$RUN/out.img" "$RUN/job.squashfs"
[ -n "$OUT_DIR" ] && mkdir -p "$OUT_DIR" && cp -a "$RUN/out/." "$OUT_DIR/"
# The console may have lost the end marker; the out disk has the status too.
[ "$rc" = 125 ] && [ -s "$RUN/out/status" ] && rc=$(cat "$RUN/out/status")
summary="run-in-xen: timings (s since QEMU start):$stages total=$(elapsed)s"
echo "$summary" >> "$LOG"
[ "${XENIPC_RIG_TIMINGS:-0}" = 1 ] || [ "$VERBOSE" = 1 ] && echo "$summary" >&2
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
  echo "run-in-xen: timed out after ${TIMEOUT}s (console: $LOG)" >&2
  exit 124
fi
if [ "$rc" = 125 ]; then
  echo "run-in-xen: no status from dom0 (QEMU exit $qemu_rc); last console lines ($LOG):" >&2
  tail -n 30 "$LOG" >&2
fi
exit "$rc"
