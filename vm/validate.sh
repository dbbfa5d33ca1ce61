#!/usr/bin/env bash
# The static checks of the VM definitions, run by .ci/run: nothing here boots a machine
# or downloads an ISO (Packer validates offline because the ISO checksums are pinned).
#   packer validate  vm/box.pkr.hcl, alone (CentOS Stream 9, cgroup v1) and with each
#                    vm/vars/*.pkrvars.hcl; packer fmt -check on all of them
#   vagrant validate --ignore-provider on the top-level Vagrantfile
#   ShellCheck, on   every shell script the VMs, CI and the image recipe run
# Needs Debian's packer (1.6.6), vagrant (2.3.4) and shellcheck. Exit status: 0 if all pass.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
status=0
check() { # name, command...
  local name=$1; shift
  if out=$("$@" 2>&1); then echo "vm: ok    $name"; else echo "vm: FAIL  $name"; printf '%s\n' "$out"; status=1; fi
}
# no version checks over the network (the CI machine may have none)
export CHECKPOINT_DISABLE=1 VAGRANT_CHECKPOINT_DISABLE=1

check "packer validate vm/ (centos-stream-9, cgroup v1)" packer validate vm/
for f in vm/vars/*.pkrvars.hcl; do
  check "packer validate -var-file=$f vm/" packer validate -var-file="$f" vm/
done
check "packer fmt -check vm/ vm/vars/" sh -c 'packer fmt -check vm/ && packer fmt -check vm/vars/'
check "vagrant validate --ignore-provider" vagrant validate --ignore-provider
check "shellcheck" shellcheck vm/provision/*.sh vm/qemu/*.sh vm/validate.sh .ci/run images/busybox/build.sh images/init/fetch.sh
[ $status = 0 ] && echo "vm: the VM definitions validate" || echo "vm: the VM definitions do NOT validate"
exit $status
