# CentOS Stream 9 booted with cgroup v2 (its own default), from the same pinned ISO as the
# template's default v1 build:  packer build -var-file=vm/vars/centos-stream-9-v2.pkrvars.hcl vm/
cgroup = "v2"
