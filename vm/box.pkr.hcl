# Packer (HCL2, written for Packer 1.6.6 as Debian 12 ships it): box's EL test host as a
# Vagrant box, for VirtualBox (virtualbox-iso) and libvirt (qemu).
#
#   packer build vm/                                            CentOS Stream 9, cgroup v1
#   packer build -var-file=vm/vars/centos-stream-9-v2.pkrvars.hcl vm/       ... cgroup v2
#   packer build -var-file=vm/vars/rocky-8.pkrvars.hcl vm/      Rocky Linux 8, cgroup v1
#   packer build -only=qemu.el vm/                              one builder only
#
# The boxes land in vm/output/box-<distro>-cgroup-<mode>-<provider>.box, where the
# Vagrantfile looks for them. CentOS 7 is not a target: its glibc 2.17 runs neither
# Node >= 18 nor koffi's prebuilt module, and its kernel has no cgroup namespace.

variable "distro" {
  type        = string
  default     = "centos-stream-9"
  description = "Names the box: box-<distro>-cgroup-<mode>."
}

# A dated boot ISO and its SHA-256, so a build installs from the same image each time
# and refuses any other. CentOS Stream's mirrors keep only recent composes; when this one
# is gone from all three, pin a newer one (its .SHA256SUM sits beside the ISO).
# The checksum is as published with NeCTAR-RC/nectar-images' template for this ISO; the
# network box was built on could reach no CentOS mirror to compare it, and a mismatch
# stops the build before the ISO boots.
variable "iso_urls" {
  type = list(string)
  default = [
    "https://mirror.stream.centos.org/9-stream/BaseOS/x86_64/iso/CentOS-Stream-9-20250303.0-x86_64-boot.iso",
    "https://composes.stream.centos.org/production/CentOS-Stream-9-20250303.0/compose/BaseOS/x86_64/iso/CentOS-Stream-9-20250303.0-x86_64-boot.iso",
    "http://mirror.aarnet.edu.au/pub/centos-stream/9-stream/BaseOS/x86_64/iso/CentOS-Stream-9-20250303.0-x86_64-boot.iso",
  ]
}

variable "iso_checksum" {
  type    = string
  default = "sha256:b71655013db15ee78c204fb3401387ac933fbfc153c6bd7a82d24d5ebd0a7b0c"
}

# A boot ISO holds the installer, not the packages: Anaconda installs from this repository.
variable "install_repo" {
  type    = string
  default = "https://mirror.stream.centos.org/9-stream/BaseOS/x86_64/os/"
}

# "v1" or "v2", set on the kernel's command line by vm/provision/cgroup.sh and checked
# after a reboot by vm/provision/check.sh.
variable "cgroup" {
  type    = string
  default = "v1"
  validation {
    condition     = var.cgroup == "v1" || var.cgroup == "v2"
    error_message = "The cgroup variable must be \"v1\" or \"v2\"."
  }
}

variable "cpus" {
  type    = number
  default = 2
}

variable "memory" {
  type    = number
  default = 2048
}

# MiB
variable "disk_size" {
  type    = number
  default = 20480
}

variable "headless" {
  type    = bool
  default = true
}

# "kvm" where /dev/kvm works, "tcg" (slow: an install takes an hour or more) elsewhere.
variable "qemu_accelerator" {
  type    = string
  default = "kvm"
}

locals {
  name = "${var.distro}-cgroup-${var.cgroup}"

  # The ISOs boot isolinux in BIOS mode: <up> moves from "Test this media & install" to
  # "Install", <tab> opens its command line, and the kickstart comes from Packer's own
  # HTTP server (vm/http/).
  boot_command = [
    "<up><wait><tab><wait>",
    " inst.text inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg inst.repo=${var.install_repo}",
    "<enter>",
  ]

  # Packer logs in as 'vagrant' (vm/http/ks.cfg); the scripts need root.
  sudo = "{{ .Vars }} sudo -E bash '{{ .Path }}'"
}

source "qemu" "el" {
  iso_urls         = var.iso_urls
  iso_checksum     = var.iso_checksum
  accelerator      = var.qemu_accelerator
  headless         = var.headless
  cpus             = var.cpus
  memory           = var.memory
  disk_size        = "${var.disk_size}M"
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  format           = "qcow2"
  vm_name          = "${local.name}.qcow2"
  output_directory = "${path.root}/output/${local.name}-qemu"
  http_directory   = "${path.root}/http"
  boot_wait        = "10s"
  boot_command     = local.boot_command
  ssh_username     = "vagrant"
  ssh_password     = "vagrant"
  ssh_timeout      = "90m"
  shutdown_command = "sudo systemctl poweroff"
}

source "virtualbox-iso" "el" {
  iso_urls             = var.iso_urls
  iso_checksum         = var.iso_checksum
  guest_os_type        = "RedHat_64"
  headless             = var.headless
  cpus                 = var.cpus
  memory               = var.memory
  disk_size            = var.disk_size
  hard_drive_interface = "sata"
  # The Vagrantfile syncs the project with rsync, so no Guest Additions are needed.
  guest_additions_mode = "disable"
  vm_name              = local.name
  output_directory     = "${path.root}/output/${local.name}-virtualbox"
  http_directory       = "${path.root}/http"
  boot_wait            = "10s"
  boot_command         = local.boot_command
  ssh_username         = "vagrant"
  ssh_password         = "vagrant"
  ssh_timeout          = "90m"
  shutdown_command     = "sudo systemctl poweroff"
}

build {
  sources = ["source.qemu.el", "source.virtualbox-iso.el"]

  # The same scripts the Vagrantfile runs on a distribution's own box.
  provisioner "shell" {
    execute_command = local.sudo
    scripts         = ["${path.root}/provision/deps.sh", "${path.root}/provision/node.sh"]
  }

  # The project's npm dependencies, from its lockfile, into root's npm cache: 'npm ci' in
  # /vagrant then installs them without fetching (the tests run as root).
  provisioner "shell" {
    inline = ["mkdir -p /tmp/box-deps"]
  }
  provisioner "file" {
    source      = "${path.root}/../package.json"
    destination = "/tmp/box-deps/package.json"
  }
  provisioner "file" {
    source      = "${path.root}/../package-lock.json"
    destination = "/tmp/box-deps/package-lock.json"
  }
  provisioner "shell" {
    execute_command = local.sudo
    inline          = ["cd /tmp/box-deps && npm ci --ignore-scripts --no-audit --no-fund && rm -rf /tmp/box-deps"]
  }

  # The cgroup mode goes on the kernel's command line; a reboot applies it, and the
  # check after it fails the build if the host did not come up in that mode.
  provisioner "shell" {
    execute_command  = local.sudo
    environment_vars = ["BOX_CGROUP=${var.cgroup}"]
    script           = "${path.root}/provision/cgroup.sh"
  }
  provisioner "shell" {
    inline            = ["sudo systemctl reboot"]
    expect_disconnect = true
  }
  provisioner "shell" {
    pause_before     = "30s"
    execute_command  = local.sudo
    environment_vars = ["BOX_CGROUP=${var.cgroup}"]
    script           = "${path.root}/provision/check.sh"
  }

  # Smaller box; a fresh machine-id on each machine made from it.
  provisioner "shell" {
    inline = ["sudo dnf clean all", "sudo truncate -s 0 /etc/machine-id"]
  }

  # qemu's box is a libvirt box (vagrant-libvirt), VirtualBox's a virtualbox one.
  post-processor "vagrant" {
    output            = "${path.root}/output/box-${local.name}-{{ .Provider }}.box"
    compression_level = 6
  }
}
