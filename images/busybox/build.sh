#!/usr/bin/env bash
# Build the builtin busybox rootfs archive reproducibly from Debian's
# busybox-static package at a pinned version.
#
# Usage: [ARCH=amd64] images/busybox/build.sh [OUTPUT]
#   OUTPUT defaults to <repo>/images/busybox.tar.gz
# Needs: apt-get, dpkg-deb, GNU tar (>= 1.28), gzip, sha256sum. Run as root
# (or under fakeroot) so ownership/modes in the staging dir are exact.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
OUT=${1:-$REPO_ROOT/images/busybox.tar.gz}
ARCH=${ARCH:-amd64}

# Pins, per architecture. To add one: apt-get download busybox-static:<arch>=<ver>
# (needs `dpkg --add-architecture <arch>` + apt-get update on the build host),
# then record the version and the .deb's sha256 here.
declare -A PIN_VERSION=(
  [amd64]='1:1.35.0-4+deb12u1+b1'
)
declare -A PIN_SHA256=(
  [amd64]='3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744'
)
# GPL-2 text shipped beside the binary (copied from Debian base-files).
GPL2_SHA256='8177f97513213526df2cf6184d8ff986c675afb514d4e68a404010521b880643'

if [[ -z ${PIN_VERSION[$ARCH]:-} ]]; then
  echo "build.sh: no pinned busybox-static version for ARCH=$ARCH (add one to PIN_VERSION/PIN_SHA256)" >&2
  exit 1
fi
VERSION=${PIN_VERSION[$ARCH]}
SHA256=${PIN_SHA256[$ARCH]}

export LC_ALL=C TZ=UTC
umask 022

WORK=$(mktemp -d)
chmod 0755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
DL=$WORK/dl ROOT=$WORK/root PKG=$WORK/pkg
mkdir -p "$DL" "$PKG" "$ROOT"
# Let apt's sandbox user write here (avoids the "unsandboxed" warning).
chown _apt "$DL" 2>/dev/null || true

# --- fetch + verify -------------------------------------------------------
PKGSPEC="busybox-static:$ARCH=$VERSION"
if [[ $ARCH == "$(dpkg --print-architecture)" ]]; then
  PKGSPEC="busybox-static=$VERSION"
fi
( cd "$DL" && { apt-get download "$PKGSPEC" || { apt-get update && apt-get download "$PKGSPEC"; }; } ) >&2
DEB=$(find "$DL" -name '*.deb' -print -quit)
[[ -n $DEB ]] || { echo "build.sh: download produced no .deb" >&2; exit 1; }
echo "$SHA256  $DEB" | sha256sum -c --quiet - >&2
echo "$GPL2_SHA256  $SCRIPT_DIR/GPL-2" | sha256sum -c --quiet - >&2
dpkg-deb -x "$DEB" "$PKG"

# --- assemble rootfs ------------------------------------------------------
cd "$ROOT"
for d in bin sbin usr/bin usr/sbin etc root home tmp var/tmp var/log \
         proc sys dev run mnt opt srv usr/share/doc/busybox; do
  mkdir -p "$d"
done

install -m 0755 "$PKG/bin/busybox" bin/busybox

# One relative symlink per applet (paths from --list-full have no leading /).
# Requires running the binary, i.e. ARCH must be executable on this host.
"$ROOT/bin/busybox" --list-full | sort | while IFS= read -r app; do
  [[ -z $app || $app == bin/busybox ]] && continue
  [[ -e $app || -L $app ]] && continue
  mkdir -p "$(dirname "$app")"
  ln -sr "$ROOT/bin/busybox" "$ROOT/$app"   # e.g. bin/sh -> busybox
done

cat > etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat > etc/group <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:
staff:x:50:
users:x:100:
nogroup:x:65534:
EOF
cat > etc/hosts <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
EOF
: > etc/resolv.conf
BB_UPSTREAM=${VERSION#*:}; BB_UPSTREAM=${BB_UPSTREAM%%-*}
cat > etc/os-release <<EOF
NAME="BusyBox"
ID=busybox
VERSION_ID=$BB_UPSTREAM
PRETTY_NAME="BusyBox $BB_UPSTREAM (Debian busybox-static $VERSION)"
EOF
cp "$PKG/usr/share/doc/busybox-static/copyright" usr/share/doc/busybox/copyright
cp "$SCRIPT_DIR/GPL-2" usr/share/doc/busybox/GPL-2

# Normalise ownership and modes.
chown -hR 0:0 .
find . -type d -exec chmod 0755 {} +
find . -type f -exec chmod 0644 {} +
chmod 0755 bin/busybox
chmod 1777 tmp var/tmp
chmod 0700 root

# --- archive --------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
tar --sort=name --mtime='@0' --owner=0 --group=0 --numeric-owner \
    --format=gnu -C "$ROOT" -cf - . | gzip -9n > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
sha256sum "$OUT"
