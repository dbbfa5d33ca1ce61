#!/usr/bin/env bash
# After the reboot: the host really is in the cgroup mode it was built for, and Node runs.
# Usage: check.sh v1|v2 (or BOX_CGROUP=v1|v2). Fails the build (or the provisioning)
# when it is not.
set -euo pipefail
want=${1:-${BOX_CGROUP:?usage: check.sh v1|v2 (or BOX_CGROUP=v1|v2)}}
fs=$(stat -fc %T /sys/fs/cgroup)
case "$want:$fs" in
  v1:tmpfs) [ ! -e /sys/fs/cgroup/unified ] || { echo "check.sh: a unified hierarchy is mounted beside v1 (hybrid, not v1)" >&2; exit 1; } ;;
  v2:cgroup2fs) ;;
  *) echo "check.sh: /sys/fs/cgroup is $fs, not cgroup $want; kernel command line: $(cat /proc/cmdline)" >&2; exit 1 ;;
esac
echo "check.sh: cgroup $want ($fs at /sys/fs/cgroup), kernel $(uname -r), node $(node --version)"
