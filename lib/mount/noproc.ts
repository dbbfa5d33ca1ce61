// --no-pivot: MS_MOVE + chroot leaves the host's mounts in the container's mount namespace,
// shadowed under the new root. Hidden is not gone: when a user namespace made inside the
// container mounts proc or sysfs, the kernel allows it if a full (unmasked) mount of the same
// kind already exists in the namespace ("mount_too_revealing"), and the host's /proc and /sys
// are exactly that. runc's msMoveRoot removes them for the same reason; so does this.
import { libc } from '../libc/seam';
import { MS, MNT_DETACH } from '../libc/constants';
import { readMountinfo, under } from './mountinfo';

const EINVAL = 22, EPERM = 1;

/** Detach every whole proc and sysfs mount outside `root`; cover with an empty tmpfs what cannot be detached. */
export function hideHostKernelFs(root: string) {
  // Read first: once /proc is detached there is no mountinfo to read.
  const mounts = readMountinfo().filter((m) => (m.fstype === 'proc' || m.fstype === 'sysfs') && m.root === '/' && !under(m.mountpoint, root));
  // Newest first: a mount stacked on (or below) another goes before the one it covers.
  for (const m of mounts.reverse()) {
    try {
      libc.umount2(m.mountpoint, MNT_DETACH);
    } catch (e: any) {
      if (e.errno !== EINVAL && e.errno !== EPERM) throw e;
      libc.mount('tmpfs', m.mountpoint, 'tmpfs', MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, 'size=0,mode=555');
    }
  }
}
