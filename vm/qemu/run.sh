#!/usr/bin/env bash
# Boots a throw-away qemu guest and runs box's container and limits tests inside it, as
# root, once per cgroup layout: "v1-centos" (CentOS 7's: one tmpfs, cpu,cpuacct and
# net_cls,net_prio co-mounted, with cpu/cpuacct symlinks) and "v2". The guest is built
# here from Debian packages (a kernel) and box's own busybox rootfs (the initramfs); the
# host's /usr (node, gcc) and the project come in over 9p. Nothing built is committed.
#   vm/qemu/run.sh [v1-centos|v2]...      (default: both)   exit status: the guests'
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=${BOX_VM_WORK:-/var/tmp/box-vm}
tests=${BOX_VM_TESTS:-'(0[178]|39|4[0-3])-'}   # containers (01-run), limits (07), the v2 device program (08), /sys/fs/cgroup (39), the /proc and sysinfo views (40-43)
modes=("$@"); [ ${#modes[@]} -gt 0 ] || modes=(v1-centos v2)
mkdir -p "$work"

# The kernel: Debian's current generic one (it has 9p and overlay as modules).
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[^ ]*-amd64\)$/\1/p' | head -1)
[ -n "$kpkg" ] || { echo "vm: cannot find Debian's kernel package (apt-get update?)" >&2; exit 2; }
kver=${kpkg#linux-image-}
if [ ! -f "$work/vmlinuz-$kver" ] || [ ! -f "$work/modules-$kver/fuse.ko" ]; then # fuse: procview (40-)
  rm -rf "$work/kdeb" && mkdir "$work/kdeb"
  # the -unsigned build where Debian has one (same kernel, no signature to carry)
  (cd "$work/kdeb" && { apt-get download -qq "$kpkg-unsigned" 2>/dev/null || apt-get download -qq "$kpkg"; })
  dpkg-deb -x "$work"/kdeb/*.deb "$work/kdeb/x"
  mkdir -p "$work/modules-$kver"
  for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev \
           drivers/virtio/virtio_pci net/9p/9pnet net/9p/9pnet_virtio fs/netfs/netfs fs/fscache/fscache fs/9p/9p fs/overlayfs/overlay fs/fuse/fuse; do
    f=$(find "$work/kdeb/x/lib/modules/$kver/kernel/$(dirname "$m")" -maxdepth 1 -name "$(basename "$m").ko*" 2>/dev/null | head -1) || true
    [ -n "$f" ] && cp "$f" "$work/modules-$kver/"
  done
  cp "$work/kdeb/x/boot/vmlinuz-$kver" "$work/vmlinuz-$kver"
  rm -rf "$work/kdeb"
fi

# The initramfs: box's busybox rootfs, the modules, the init.
rm -rf "$work/initramfs" && mkdir -p "$work/initramfs/modules"
tar -xzf "$top/images/busybox.tar.gz" -C "$work/initramfs"
cp "$work/modules-$kver"/* "$work/initramfs/modules/"
install -m 755 "$top/vm/qemu/init.sh" "$work/initramfs/init"
(cd "$work/initramfs" && find . | ./bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$work/initrd.gz"

# TCG: this kind of machine has a /dev/kvm that hangs a guest (nested virtualization);
# BOX_VM_KVM=1 uses KVM where it works.
accel=(-accel tcg)
[ "${BOX_VM_KVM:-}" = 1 ] && accel=(-enable-kvm -cpu host)
status=0
totals=(0 0 0)
for mode in "${modes[@]}"; do
  echo "== vm: cgroup $mode, tests matching $tests (${accel[*]})"
  log="$work/console-$mode.log"
  timeout 900 qemu-system-x86_64 "${accel[@]}" -m 4096 -smp 2 -nographic -no-reboot -nodefaults -serial stdio \
    -kernel "$work/vmlinuz-$kver" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 box.cgroup=$mode box.project=$top box.tests=$tests" \
    -virtfs local,path=/usr,mount_tag=hostusr,security_model=none,readonly=on \
    -virtfs local,path="$top",mount_tag=project,security_model=none 2>&1 | tr -d '\r' > "$log" || true
  # what ran in this mode: each test file with uvu's (passed / total), what the tests
  # measured, every skip and its reason, every failure
  sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
    /^(BOX-VM|  skip |    [^ ])/ || /✘|FAIL/ { print; next }
    /^[0-9][0-9]-.*\.test\.ts$/ { file = $0; next }
    file != "" && match($0, /\([0-9]+ \/ [0-9]+\)/) { print "  ran " file " " substr($0, RSTART, RLENGTH); file = "" }' || true
  result=$(sed -n 's/^BOX-VM-RESULT \([0-9]*\).*/\1/p' "$log" | tail -1)
  read -r p f k < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$log" | tail -1) || true
  totals=($((totals[0] + ${p:-0})) $((totals[1] + ${f:-0})) $((totals[2] + ${k:-0})))
  if [ "$result" != 0 ]; then
    echo "== vm: cgroup $mode FAILED (${result:-no result}); the console is in $log"; tail -40 "$log"; status=1
  fi
done
echo "vm: ${totals[0]} passed, ${totals[1]} failed, ${totals[2]} skipped"
exit $status
