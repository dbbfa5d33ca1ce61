#!/usr/bin/env bash
# Boots this EL host with the cgroup mode box is to be tested on, through the kernel's
# command line (systemd reads it at boot; nothing can switch a running system):
#   v1 — systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller:
#        every controller on its own v1 hierarchy and no unified one (CentOS Stream 9
#        boots v2 without these; Rocky/Alma 8 boot v1 already, and keep it);
#   v2 — systemd.unified_cgroup_hierarchy=1: the pure unified hierarchy.
# Usage: cgroup.sh v1|v2 (or BOX_CGROUP=v1|v2, as Packer passes it). Prints "reboot
# needed" and exits 0 when the running kernel's mode differs from the one asked for; the
# caller reboots (Packer: expect_disconnect; Vagrant: reboot: true). Idempotent.
set -euo pipefail
mode=${1:-${BOX_CGROUP:?usage: cgroup.sh v1|v2 (or BOX_CGROUP=v1|v2)}}
case "$mode" in
  v1) add="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller" ;;
  v2) add="systemd.unified_cgroup_hierarchy=1" ;;
  *) echo "cgroup.sh: unknown cgroup mode '$mode' (v1 or v2)" >&2; exit 1 ;;
esac
# whatever an earlier run (or the distribution) put there goes first, so reruns add nothing
remove="systemd.unified_cgroup_hierarchy systemd.legacy_systemd_cgroup_controller"
# Every installed kernel, and the default for kernels installed later.
grubby --update-kernel=ALL --remove-args="$remove"
grubby --update-kernel=ALL --args="$add"
if [ -f /etc/default/grub ]; then
  for a in $remove; do sed -i -E "/^GRUB_CMDLINE_LINUX=/ s/ ?$a(=[^ \"]*)?//g" /etc/default/grub; done
  sed -i -E "/^GRUB_CMDLINE_LINUX=/ s/\"$/ $add\"/" /etc/default/grub
fi
# hybrid (v1 plus a unified hierarchy, systemd's default on EL8) is not what v1 asks for
now=v1
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then now=v2; elif [ -e /sys/fs/cgroup/unified ]; then now=hybrid; fi
if [ "$now" = "$mode" ]; then echo "cgroup.sh: booted with cgroup $mode"; else echo "cgroup.sh: cgroup $now now, $mode after a reboot: reboot needed"; fi
