# Rocky Linux 8 (a rebuild of RHEL 8, as CentOS 8 was; supported to 2029): cgroup v1 is
# its native mode, and Node 20's glibc 2.28 floor is exactly EL8's.
#   packer build -var-file=vm/vars/rocky-8.pkrvars.hcl vm/
# 8.10 is the last minor release of 8, so its boot ISO stays at this path (and in the
# vault). The same SHA-256 is pinned by several unrelated public Packer templates for this
# ISO (NeCTAR-RC/nectar-images among them); it was not compared with Rocky's CHECKSUM file
# from here (no route to Rocky's mirrors), and a mismatch stops the build.
distro = "rocky-8"
cgroup = "v1"
iso_urls = [
  "https://download.rockylinux.org/pub/rocky/8.10/isos/x86_64/Rocky-8.10-x86_64-boot.iso",
  "https://dl.rockylinux.org/vault/rocky/8.10/isos/x86_64/Rocky-8.10-x86_64-boot.iso",
]
iso_checksum = "sha256:203744a255ea6579e49ca7f7f0f17e2fda94e50945d8183a254490e454c7c5b4"
install_repo = "https://download.rockylinux.org/pub/rocky/8/BaseOS/x86_64/os/"
