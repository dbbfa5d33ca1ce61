// Mounting onto a resolved fd, and read-only for a whole mount tree.
import { libc, closeFd } from '../libc/seam';
import { MS } from '../libc/constants';
import { SysError } from '../libc/errors';
import { procFd, AT_EMPTY_PATH, AT_RECURSIVE, MOUNT_ATTR } from '../libc/paths';
import { readMountinfo, mountFlags, under } from './mountinfo';
import { resolveIn } from './resolve';

const ENOSYS = 38, EINVAL = 22;

/**
 * mount(2) onto what `fd` holds, through /proc/self/fd/N: the kernel follows that magic link
 * to exactly the resolved dentry, so nothing swapped in since can redirect the mount.
 * Errors name `what` (the container path), not the fd.
 */
export function mountAt(source: string | null, fd: number, fstype: string | null, flags: number, data: string | null, what: string) {
  try {
    libc.mount(source, procFd(fd), fstype, flags, data);
  } catch (e: any) {
    throw e instanceof SysError ? new SysError('mount', e.errno, what) : e;
  }
}

/**
 * Make the mount `fd` is open on (its root: resolve it again after mounting) read-only, with
 * every mount below it: MS_REMOUNT|MS_BIND|MS_RDONLY|MS_REC only changes the top one, and a
 * host submount under a `:ro` volume would stay writable. `lockdown` adds nosuid, nodev, noexec.
 */
export function readonlyRecursive(fd: number, what: string, lockdown = false) {
  lockRecursive(fd, what, true, lockdown);
}

/** readonlyRecursive's work; `readonly` false: only the lockdown flags (--privileged's /sys/fs/cgroup: writable, yet nosuid, nodev, noexec). */
export function lockRecursive(fd: number, what: string, readonly: boolean, lockdown: boolean) {
  const set = (readonly ? MOUNT_ATTR.RDONLY : 0) | (lockdown ? MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC : 0);
  try {
    libc.mountSetattr(fd, AT_EMPTY_PATH | AT_RECURSIVE, set, 0, what); // 5.12+: the whole tree in one call
    return;
  } catch (e: any) {
    if (e.errno !== ENOSYS) throw e;
  }
  // Older kernels: remount every mount at or below it, each keeping its own other flags. The
  // submounts are reached from `fd` by the resolver, so a symlink swapped in cannot lead out.
  const at = libc.readlink(procFd(fd));
  const mounts = readMountinfo().filter((m) => under(m.mountpoint, at));
  if (!mounts.length) throw new SysError('remount', EINVAL, `${what} (not a mount)`);
  const extra = lockdown ? MS.NOSUID | MS.NODEV | MS.NOEXEC : 0;
  for (const m of mounts) {
    const rel = m.mountpoint.slice(at.length);
    const sub = rel ? resolveIn(fd, rel) : fd;
    try {
      mountAt(null, sub, null, MS.REMOUNT | MS.BIND | (readonly ? MS.RDONLY : 0) | mountFlags(m.options) | extra, null, rel ? `${what}${rel}` : what);
    } finally {
      if (sub !== fd) closeFd(sub);
    }
  }
}
