#!/usr/bin/env bash
# What box's test suite needs on an EL 8/9 host, from the distribution's repositories:
# gcc + glibc-static (the isolation tests build a static chroot-breakout probe; the static
# libc lives in CRB on EL9 and PowerTools on EL8), rsync (Vagrant's synced folder), tar
# and xz (Node's tarball), skopeo. The registry tests also need Debian's docker-registry,
# which EL does not package: they skip here and print why.
set -euo pipefail
# shellcheck source=/dev/null
. /etc/os-release
case "${VERSION_ID%%.*}" in
  8) extra=powertools ;;
  9) extra=crb ;;
  *) echo "deps.sh: $PRETTY_NAME is not an EL 8/9 host (CentOS 7 cannot run Node >= 18: glibc 2.17)" >&2; exit 1 ;;
esac
dnf -y -q --setopt=install_weak_deps=False --enablerepo="$extra" install \
  gcc glibc-static rsync tar xz curl skopeo iproute procps-ng util-linux grubby
echo "deps.sh: installed on $PRETTY_NAME"
