#!/usr/bin/env bash
# Node.js for box on an EL host: the official linux-x64 build at one pinned version,
# checked against a pinned SHA-256 before any of it is unpacked. EL's own nodejs module
# streams move under us; this pin is the same Node the project's CI runs (v20.20.2).
# The checksum is nodejs.org's SHASUMS256.txt entry for the tarball (the same value is
# published by bazel-contrib/rules_nodejs's generated version table and others).
# Used by the Packer build (vm/box.pkr.hcl) and by the Vagrantfile. Idempotent.
set -euo pipefail
version=20.20.2
sha256=df770b2a6f130ed8627c9782c988fda9669fa23898329a61a871e32f965e007d
prefix=/opt/node-v$version

if [ "$(uname -m)" != x86_64 ]; then
  echo "node.sh: only x86_64 is pinned here (this machine is $(uname -m))" >&2
  exit 1
fi
if [ "$("$prefix/bin/node" --version 2>/dev/null)" != "v$version" ]; then
  tarball=$(mktemp /tmp/node.XXXXXX.tar.xz)
  trap 'rm -f "$tarball"' EXIT
  curl -fsSL --retry 3 -o "$tarball" "https://nodejs.org/dist/v$version/node-v$version-linux-x64.tar.xz"
  echo "$sha256  $tarball" | sha256sum --check --quiet -
  rm -rf "$prefix.tmp" && mkdir -p "$prefix.tmp"
  tar -xJf "$tarball" -C "$prefix.tmp" --strip-components=1 --no-same-owner
  rm -rf "$prefix" && mv "$prefix.tmp" "$prefix"
fi
# /usr/bin, not /usr/local/bin: sudo's secure_path on EL leaves /usr/local/bin out, and
# the tests run as 'sudo npm test'.
for cmd in node npm npx; do ln -sfn "$prefix/bin/$cmd" "/usr/bin/$cmd"; done
echo "node.sh: $(node --version), npm $(npm --version)"
