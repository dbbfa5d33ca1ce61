#!/usr/bin/env bash
# Fetch the init that `box run --init` puts in front of the command as PID 1: Debian's
# statically linked tini, unmodified, for amd64 and arm64 at a pinned version. Each .deb
# is checked against its pinned sha256, then /usr/bin/tini-static is written to
#   images/init/tini-static-amd64, images/init/tini-static-arm64
# and the package's copyright file (tini is MIT/Expat) to images/init/COPYING.tini.
# scripts/build.ts embeds the binaries in ./box; they are committed, so building box
# needs no network. Run this only to refresh them (see README.md beside it).
#
# Usage: images/init/fetch.sh
# Needs: a Debian bookworm host, root, network access to the archive; apt-get, dpkg,
# dpkg-deb, sha256sum, file.
# apt-get can download a foreign architecture's package only when dpkg knows that
# architecture: if arm64 (or amd64 on an arm64 host) is not configured, this script runs
# `dpkg --add-architecture <arch> && apt-get update` and removes the architecture again
# when it exits (the extra package lists stay in /var/lib/apt/lists, ignored by apt, until
# the next apt-get update drops them).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VERSION='0.19.0-1+b3'
declare -A PIN_SHA256=(
  [amd64]='7d1947665fa40e55f218fefad773dc6de66458d0b39eaa292cdcadfc7c996632'
  [arm64]='335dee1e36c0bf61f11c9fe9740012966a3183bd50405b73ed19477293c28f7f'
)
# What `file` must say about each binary: the right machine, and no dynamic loader.
declare -A ELF_MACHINE=(
  [amd64]='x86-64'
  [arm64]='ARM aarch64'
)

export LC_ALL=C
umask 022

WORK=$(mktemp -d)
chmod 0755 "$WORK"
ADDED_ARCH=()
cleanup() {
  rm -rf "$WORK"
  local a
  for a in "${ADDED_ARCH[@]}"; do
    dpkg --remove-architecture "$a" && echo "fetch.sh: removed the dpkg architecture $a again" >&2
  done
}
trap cleanup EXIT

native=$(dpkg --print-architecture)
for arch in amd64 arm64; do
  if [[ $arch != "$native" ]] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    echo "fetch.sh: adding the dpkg architecture $arch so that apt-get can download tini:$arch (removed again at exit)" >&2
    dpkg --add-architecture "$arch"
    ADDED_ARCH+=("$arch")
    apt-get update -qq >&2
  fi

  dl=$WORK/$arch
  mkdir -p "$dl/pkg"
  # Let apt's sandbox user write here (avoids the "unsandboxed" warning).
  chown _apt "$dl" 2>/dev/null || true
  spec="tini:$arch=$VERSION"
  ( cd "$dl" && { apt-get download "$spec" || { apt-get update -qq && apt-get download "$spec"; }; } ) >&2
  deb=$(find "$dl" -maxdepth 1 -name '*.deb' -print -quit)
  [[ -n $deb ]] || { echo "fetch.sh: apt-get download $spec produced no .deb" >&2; exit 1; }
  got=$(sha256sum "$deb" | cut -d' ' -f1)
  if [[ $got != "${PIN_SHA256[$arch]}" ]]; then
    echo "fetch.sh: $(basename "$deb"): sha256 $got, pinned ${PIN_SHA256[$arch]}" >&2
    exit 1
  fi
  dpkg-deb -x "$deb" "$dl/pkg"

  bin=$dl/pkg/usr/bin/tini-static
  desc=$(file -b "$bin")
  if [[ $desc != *"${ELF_MACHINE[$arch]}"* || $desc != *'statically linked'* ]]; then
    echo "fetch.sh: tini-static ($arch) is not a static ${ELF_MACHINE[$arch]} ELF: $desc" >&2
    exit 1
  fi
  install -m 0755 "$bin" "$SCRIPT_DIR/tini-static-$arch.tmp"
  mv "$SCRIPT_DIR/tini-static-$arch.tmp" "$SCRIPT_DIR/tini-static-$arch"
  cp "$dl/pkg/usr/share/doc/tini/copyright" "$WORK/copyright-$arch"
done

# The copyright file is the same in both packages; ship it once.
cmp -s "$WORK/copyright-amd64" "$WORK/copyright-arm64" || { echo "fetch.sh: the amd64 and arm64 copyright files differ" >&2; exit 1; }
install -m 0644 "$WORK/copyright-amd64" "$SCRIPT_DIR/COPYING.tini"

cd "$SCRIPT_DIR"
sha256sum tini-static-amd64 tini-static-arm64
