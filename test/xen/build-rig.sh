#!/usr/bin/env bash
# test/xen/build-rig.sh [--refresh]
#
# Builds the images that run-in-xen.sh boots under QEMU (TCG): the Xen 4.17 hypervisor, Debian's
# 6.1 kernel as PV dom0 and PV domU, the Xen toolstack (xl, xenstored, xenconsoled,
# vchan-socket-proxy, xenstore-*), and the host's node. Guest packages are downloaded from Debian
# with `apt-get download` and unpacked with `dpkg-deb -x`: nothing is installed in the host except
# the host tools below.
#
# Cached and idempotent: everything lives in $XENIPC_RIG_DIR (default /tmp/xenipc-rig); each stage
# is redone only when its inputs change, so a rebuild that changes nothing takes about a second.
# --refresh forgets the downloaded packages (picks up new Debian versions).
# Quiet; the log is $XENIPC_RIG_DIR/build.log (XENIPC_RIG_VERBOSE=1 shows it as it goes).
#
# Output: $XENIPC_RIG_DIR/images/{xen,vmlinux,dom0.cpio,sys.squashfs,domu-base.cpio.lz4,manifest.txt}
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RIG_DIR=$(realpath -m "${XENIPC_RIG_DIR:-/tmp/xenipc-rig}")
VERBOSE=${XENIPC_RIG_VERBOSE:-0}
XEN_VERSION=4.17
NODE_BIN=$(realpath "${XENIPC_RIG_NODE:-$(command -v node || echo /nonexistent)}")

# Host tools: QEMU, a static busybox for the guests' userland, image tools, depmod.
HOST_PACKAGES="qemu-system-x86 busybox-static cpio squashfs-tools kmod xz-utils lz4"
# Guest packages (extracted, never installed). The kernel package is resolved from the
# linux-image-amd64 metapackage.
GUEST_PACKAGES="xen-hypervisor-$XEN_VERSION-amd64 xen-utils-$XEN_VERSION xen-utils-common xenstore-utils \
libxenmisc$XEN_VERSION libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenstore4 \
libxentoollog1 libxendevicemodel1 libxentoolcore1 libxenhypfs1 libyajl2"
# Kernel modules each domain loads (modprobe --show-depends adds their dependencies, in order).
DOM0_MODULES="xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs virtio_pci virtio_blk squashfs overlay"
DOMU_MODULES="xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs"

mkdir -p "$RIG_DIR"
LOG="$RIG_DIR/build.log"
exec 9> "$RIG_DIR/.build.lock"
flock 9   # one build at a time per rig dir
: > "$LOG"
step() { echo "== $*" >> "$LOG"; [ "$VERBOSE" = 1 ] && echo "build-rig: $*" >&2; return 0; }
fail() { echo "build-rig: $*" >&2; echo "build-rig: log: $LOG" >&2; exit 1; }
quietly() {
  if [ "$VERBOSE" = 1 ]; then "$@" 2>&1 | tee -a "$LOG"; return "${PIPESTATUS[0]}"; fi
  "$@" >> "$LOG" 2>&1
}
trap 'fail "failed at line $LINENO"' ERR
[ "${1:-}" = --refresh ] && rm -rf "$RIG_DIR/debs" "$RIG_DIR/pkgroot"

# Content hash of files/strings, used as cache keys.
hash_of() { sha256sum | cut -c1-16; }

# --------------------------------------------------------------------------------------- host tools
APT_UPDATED=0
apt_update_once() {
  [ "$APT_UPDATED" = 1 ] && return 0
  step "apt-get update"; quietly apt-get update -q || true; APT_UPDATED=1
}
missing=$(for p in $HOST_PACKAGES; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
done | xargs)
if [ -n "$missing" ]; then
  step "installing host packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  quietly apt-get install -y -q --no-install-recommends $missing \
    || { apt_update_once; quietly apt-get install -y -q --no-install-recommends $missing; } \
    || fail "cannot install host packages: $missing"
fi
[ -x "$NODE_BIN" ] || fail "node not found on the host (set XENIPC_RIG_NODE=/path/to/node)"

# ------------------------------------------------------------------------- download guest packages
DEBS="$RIG_DIR/debs"
kernel_package() {
  apt-cache show --no-all-versions linux-image-amd64 2>/dev/null \
    | sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\).*/\1/p' | sed -n 1p   # reads all: no SIGPIPE
}
if [ ! -f "$DEBS/.complete" ]; then
  KERNEL_PACKAGE=$(kernel_package)
  [ -n "$KERNEL_PACKAGE" ] || { apt_update_once; KERNEL_PACKAGE=$(kernel_package); }
  [ -n "$KERNEL_PACKAGE" ] || fail "apt cannot resolve linux-image-amd64 (Debian bookworm sources needed)"
  step "downloading $KERNEL_PACKAGE $GUEST_PACKAGES"
  rm -rf "$DEBS" "$DEBS.tmp"; mkdir -p "$DEBS.tmp"
  (cd "$DEBS.tmp" && quietly apt-get download $KERNEL_PACKAGE $GUEST_PACKAGES) \
    || { apt_update_once; (cd "$DEBS.tmp" && quietly apt-get download $KERNEL_PACKAGE $GUEST_PACKAGES); } \
    || fail "apt-get download failed"
  mv "$DEBS.tmp" "$DEBS"; touch "$DEBS/.complete"
fi
DEBS_KEY=$(ls "$DEBS"/*.deb | xargs -n1 basename | hash_of)

# --------------------------------------------------------------------------------- unpack packages
ROOT="$RIG_DIR/pkgroot"
if [ "$(cat "$ROOT/.key" 2>/dev/null)" != "$DEBS_KEY" ]; then
  step "unpacking packages"
  rm -rf "$ROOT"; mkdir -p "$ROOT"
  for deb in "$DEBS"/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
  # The .debs ship no modules.dep (the postinst makes it).
  quietly depmod -b "$ROOT" "$(ls "$ROOT/lib/modules")"
  echo "$DEBS_KEY" > "$ROOT/.key"
fi
KVER=$(ls "$ROOT/lib/modules")
XEN_BIN="$ROOT/usr/lib/xen-$XEN_VERSION/bin"
XEN_LIBS="$ROOT/usr/lib/x86_64-linux-gnu"

# ------------------------------------------------------------------------------------------ images
# Everything below depends on: the packages, this script, the guest scripts, node and busybox.
file_ids() { for f in "$@"; do stat -L -c '%n %s %Y' "$f"; done; }
IMAGES_KEY=$({
  echo "$DEBS_KEY"
  cat "$0" "$HERE"/image/*
  file_ids "$NODE_BIN" /bin/busybox /lib/x86_64-linux-gnu/libc.so.6
} | hash_of)
IMAGES="$RIG_DIR/images"
if [ "$(cat "$IMAGES/.key" 2>/dev/null)" = "$IMAGES_KEY" ]; then
  step "images up to date"
  exit 0
fi
STAGE="$RIG_DIR/staging"
rm -rf "$STAGE" "$IMAGES.new"; mkdir -p "$STAGE" "$IMAGES.new"

# The kernel as an uncompressed ELF vmlinux: the bzImage's payload is xz, and decompressing it
# under TCG costs ~2 s on every boot (in Xen for dom0, in libxl for each domU). The x86 boot
# header gives the payload's place: setup_sects at 0x1f1, payload_offset/length at 0x248/0x24c.
step "extracting vmlinux"
BZIMAGE="$ROOT/boot/vmlinuz-$KVER"
header_u8() { od -An -tu1 -j "$1" -N1 "$BZIMAGE" | tr -d ' '; }
header_u32() { od -An -tu4 -j "$1" -N4 "$BZIMAGE" | tr -d ' '; }
setup_sects=$(header_u8 $((0x1f1))); [ "$setup_sects" = 0 ] && setup_sects=4
payload_start=$(( (setup_sects + 1) * 512 + $(header_u32 $((0x248))) ))
dd if="$BZIMAGE" iflag=skip_bytes,count_bytes skip="$payload_start" count="$(header_u32 $((0x24c)))" status=none \
  | xz -dc --single-stream > "$IMAGES.new/vmlinux" 2>> "$LOG" || fail "cannot decompress the kernel payload"
[ "$(head -c4 "$IMAGES.new/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || fail "kernel payload is not an ELF"

# Xen: QEMU's multiboot loader takes the gunzipped ELF.
gunzip -c "$ROOT/boot/xen-$XEN_VERSION-amd64.gz" > "$IMAGES.new/xen"

# copy_program ROOTFS SRC DEST: copy an ELF and the shared libraries it needs (resolved against
# the host's libraries plus the unpacked Xen libraries) into ROOTFS.
copy_program() {
  local rootfs=$1 src=$2 dest=$3 lib
  mkdir -p "$rootfs$(dirname "$dest")" "$rootfs/usr/lib/x86_64-linux-gnu" "$rootfs/usr/lib64"
  cp -L "$src" "$rootfs$dest"
  for lib in $(LD_LIBRARY_PATH="$XEN_LIBS" ldd "$src" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/lib64\// {print $1}'); do
    case $lib in
      */ld-linux-x86-64.so.*) cp -Ln "$lib" "$rootfs/usr/lib64/" ;;
      *) cp -Ln "$lib" "$rootfs/usr/lib/x86_64-linux-gnu/" ;;
    esac
  done
}
# add_modules ROOTFS MODULE...: the modules plus dependencies, and ROOTFS/modules/load-order
add_modules() {
  local rootfs=$1; shift
  mkdir -p "$rootfs/modules"
  for m in "$@"; do modprobe -d "$ROOT" -S "$KVER" --show-depends "$m"; done \
    | awk '$1 == "insmod" && !seen[$2]++ {print $2}' > "$STAGE/modules.list"
  [ -s "$STAGE/modules.list" ] || fail "no modules resolved for: $*"
  while read -r ko; do cp "$ko" "$rootfs/modules/"; basename "$ko" >> "$rootfs/modules/load-order"; done < "$STAGE/modules.list"
}
make_cpio() { (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$2"; }
busybox_rootfs() {
  mkdir -p "$1"/{bin,dev,proc,sys,tmp,etc,root,run,var,opt}
  cp /bin/busybox "$1/bin/busybox"
  echo "root:x:0:0:root:/root:/bin/sh" > "$1/etc/passwd"; echo "root:x:0:" > "$1/etc/group"
}

# System image (squashfs, on a virtio disk in dom0 and exported to the domU as xvda): node, the
# Xen toolstack and libraries, the domU kernel + initramfs, the rig's guest scripts.
step "building the system image"
SYS="$STAGE/sys"
mkdir -p "$SYS/usr/bin" "$SYS/etc/xen" "$SYS/opt/xenipc/bin" "$SYS/opt/xenipc/domu"
copy_program "$SYS" "$NODE_BIN" /usr/bin/node
for prog in xl xenstored xenconsoled xenconsole xen-init-dom0 vchan-socket-proxy xentop lsevtchn; do
  copy_program "$SYS" "$XEN_BIN/$prog" "/usr/lib/xen-$XEN_VERSION/bin/$prog"
done
for prog in "$ROOT"/usr/bin/xenstore*; do
  [ -L "$prog" ] || copy_program "$SYS" "$prog" "/usr/bin/$(basename "$prog")"
done
cp -a "$XEN_LIBS"/lib*.so* "$SYS/usr/lib/x86_64-linux-gnu/"
# The whole C/C++ runtime of the host, not only what node links: the project's native modules
# (rolldown's binding needs librt, msgpackr-extract libstdc++) and pthread_cancel's dlopen of
# libgcc_s (vchan-socket-proxy) need their libraries too.
for lib in $(dpkg -L libc6 libstdc++6 libgcc-s1 | grep -E '^/(usr/)?lib/x86_64-linux-gnu/[^/]+\.so[.0-9]*$'); do
  cp -Ln "$lib" "$SYS/usr/lib/x86_64-linux-gnu/"
done
cp "$ROOT/etc/xen/xl.conf" "$SYS/etc/xen/"
for script in start-toolstack domu mount-job; do install -m 755 "$HERE/image/$script" "$SYS/opt/xenipc/bin/xenipc-$script"; done
cp "$IMAGES.new/vmlinux" "$SYS/opt/xenipc/domu/vmlinux"
quietly mksquashfs "$SYS" "$IMAGES.new/sys.squashfs" -noappend -comp lz4 -all-root -quiet || fail "mksquashfs failed"

# domU initramfs, first part: busybox + modules + init + the system image's /usr (node, xenstore
# tools, libraries). run-in-xen.sh appends the job + project as a second archive. Everything the
# domU has comes in its ramdisk, so it needs no disks (no blkback, no hotplug scripts in dom0).
# LZ4 (legacy format, as the kernel wants it): fast to inflate under TCG, and libxenguest
# passes it on untouched (it would gunzip a gzip ramdisk itself, slowly).
step "building the domU initramfs"
DOMU_ROOT="$STAGE/domu-root"
busybox_rootfs "$DOMU_ROOT"
add_modules "$DOMU_ROOT" $DOMU_MODULES
install -m 755 "$HERE/image/domu-init" "$DOMU_ROOT/init"
cp -a "$SYS/usr" "$DOMU_ROOT/usr"
ln -s usr/lib "$DOMU_ROOT/lib"; ln -s usr/lib64 "$DOMU_ROOT/lib64"; ln -s bin "$DOMU_ROOT/sbin"
make_cpio "$DOMU_ROOT" "$STAGE/domu-base.cpio"
lz4 -l -q -f "$STAGE/domu-base.cpio" "$IMAGES.new/domu-base.cpio.lz4" || fail "lz4 failed"

# dom0 initramfs: busybox + modules + init; it mounts the system image from its virtio disk.
step "building the dom0 initramfs"
DOM0_ROOT="$STAGE/dom0-root"
busybox_rootfs "$DOM0_ROOT"
add_modules "$DOM0_ROOT" $DOM0_MODULES
install -m 755 "$HERE/image/dom0-init" "$DOM0_ROOT/init"
make_cpio "$DOM0_ROOT" "$IMAGES.new/dom0.cpio"

{
  echo "kernel $KVER"
  for deb in "$DEBS"/*.deb; do dpkg-deb -f "$deb" Package Version | paste -sd' '; done
  echo "node $NODE_BIN $("$NODE_BIN" --version)"
  echo "busybox $(/bin/busybox | sed -n 1p)"
  qemu-system-x86_64 --version | sed -n 1p
  (cd "$IMAGES.new" && ls -l xen vmlinux dom0.cpio sys.squashfs domu-base.cpio.lz4)
} > "$IMAGES.new/manifest.txt"
echo "$IMAGES_KEY" > "$IMAGES.new/.key"
rm -rf "$IMAGES.old"; [ -d "$IMAGES" ] && mv "$IMAGES" "$IMAGES.old"
mv "$IMAGES.new" "$IMAGES"; rm -rf "$IMAGES.old" "$STAGE"
step "images ready in $IMAGES"
