#!/bin/sh
# PID 1 of the test guest (an initramfs made of box's own busybox rootfs): load the few
# modules it needs, make a tmpfs root (pivot_root refuses the initramfs itself), mount the
# host's /usr and the project over 9p, lay out cgroups as asked on the kernel command line
# (box.cgroup=v1-centos | v2), run the tests as root, print the result, power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p overlay fuse; do
  insmod /modules/$m.ko 2>/dev/null
done
mode=$(sed -n 's/.*box\.cgroup=\([^ ]*\).*/\1/p' /proc/cmdline)
project=$(sed -n 's/.*box\.project=\([^ ]*\).*/\1/p' /proc/cmdline)
filter=$(sed -n 's/.*box\.tests=\([^ ]*\).*/\1/p' /proc/cmdline)

mkdir -p /newroot
mount -t tmpfs -o mode=755,size=75% root /newroot
# without its root there is no guest to build: say so and power off (run.sh reports it)
cd /newroot || { echo "BOX-VM-RESULT 2 (no tmpfs root)"; echo o > /proc/sysrq-trigger; sleep 10; }
mkdir -p proc sys dev tmp run var/tmp var/lib var/cache etc root usr "./$project"
chmod 1777 tmp var/tmp
ln -s usr/bin bin; ln -s usr/sbin sbin; ln -s usr/lib lib; ln -s usr/lib64 lib64
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose hostusr usr
mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose project "./$project"
cp /etc/passwd /etc/group etc/ 2>/dev/null
echo box-test-vm > etc/hostname
cat > etc/vm-start <<EOS
#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs shm /dev/shm
hostname box-test-vm
if [ "$mode" = v2 ]; then
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
  echo "+cpu +cpuset +memory +pids +io" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
else
  # CentOS 7's layout: one tmpfs, co-mounted cpu,cpuacct and net_cls,net_prio, with symlinks
  mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
  for c in cpu,cpuacct net_cls,net_prio memory pids devices freezer cpuset blkio; do
    mkdir /sys/fs/cgroup/\$c; mount -t cgroup -o \$c cgroup /sys/fs/cgroup/\$c
  done
  ln -s cpu,cpuacct /sys/fs/cgroup/cpu; ln -s cpu,cpuacct /sys/fs/cgroup/cpuacct
  ln -s net_cls,net_prio /sys/fs/cgroup/net_cls; ln -s net_cls,net_prio /sys/fs/cgroup/net_prio
fi
cd $project
echo "BOX-VM: cgroup mode $mode, tests $filter"
node -e 'console.log("BOX-VM: box info: " + JSON.stringify(require("child_process").execFileSync("node", ["box", "info", "--format", "json"]).toString().match(/"mode": "[^"]*"/)[0]))'
node test/run.mjs "$filter"
echo "BOX-VM-RESULT \$?"
sync
EOS
chmod 755 etc/vm-start
exec switch_root /newroot /bin/sh -c '/etc/vm-start; echo o > /proc/sysrq-trigger; sleep 10'
