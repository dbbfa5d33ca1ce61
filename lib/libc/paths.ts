// Path calls relative to a directory fd, for resolving container paths without the TOCTOU
// of a string: once a directory is open, a container that swaps a path component for a
// symlink can no longer redirect what box creates or mounts (CVE-2021-30465, CVE-2024-45310).
// openat2 and mount_setattr are newer than some kernels box supports (EL8 has 4.18): their
// wrappers throw SysError ENOSYS there, and callers fall back. BOX_OLD_KERNEL=1 makes them
// throw ENOSYS here too, so tests exercise the fallbacks on a new kernel.
import { func, check, syscall, sys, pretendOldKernel as oldKernel } from './core';
import { SysError } from './errors';

const ENOSYS = 38;

/** Not in Node's fs.constants; the same on x64 and arm64 (O_NOFOLLOW and O_DIRECTORY are not: use fs.constants). */
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;
export { AT_EMPTY_PATH } from './constants';
export const AT_RECURSIVE = 0x8000;
/** openat2's `resolve` bits (linux/openat2.h). */
export const RESOLVE = { NO_XDEV: 0x01, NO_MAGICLINKS: 0x02, NO_SYMLINKS: 0x04, BENEATH: 0x08, IN_ROOT: 0x10 } as const;
/** mount_setattr's attribute bits (linux/mount.h). */
export const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8 } as const;


const DECLS = {
  openat: 'int openat(int dirfd, const char *path, int flags, ...)',
  mkdirat: 'int mkdirat(int dirfd, const char *path, uint32_t mode)',
  readlinkat: 'long readlinkat(int dirfd, const char *path, void *buf, size_t size)',
  symlinkat: 'int symlinkat(const char *target, int dirfd, const char *linkpath)',
} as const;
const fn = (name: keyof typeof DECLS) => func(DECLS[name]);

/** openat(2). `what` names the thing in errors (a container path, not the fd). */
export function openat(dirfd: number, p: string, flags: number, mode = 0, what = p): number {
  return check(fn('openat')(dirfd, p, flags, 'uint32_t', mode), 'open', what);
}

/**
 * openat2(2) (Linux 5.6): the kernel resolves `p` under `dirfd` with `resolve` rules; with
 * RESOLVE_IN_ROOT every absolute symlink and ".." is clamped to dirfd, atomically.
 */
export function openat2(dirfd: number, p: string, flags: number, resolve: number, what = p): number {
  if (oldKernel()) throw new SysError('openat2', ENOSYS, what);
  const how = Buffer.alloc(24); // struct open_how { u64 flags; u64 mode; u64 resolve; }
  how.writeBigUInt64LE(BigInt(flags), 0);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  return check(syscall(sys().openat2, 'int', dirfd, 'const char *', p, 'void *', how, 'size_t', how.length), 'openat2', what);
}

export function mkdirat(dirfd: number, name: string, mode: number, what = name) {
  check(fn('mkdirat')(dirfd, name, mode), 'mkdir', what);
}

/** readlinkat(2); with name "" it reads the symlink an O_PATH|O_NOFOLLOW fd is open on (no re-lookup). */
export function readlinkat(dirfd: number, name: string, what = name): string {
  const buf = Buffer.alloc(4096);
  const n = check(fn('readlinkat')(dirfd, name, buf, buf.length), 'readlink', what);
  return buf.subarray(0, n).toString();
}

export function symlinkat(target: string, dirfd: number, name: string, what = name) {
  check(fn('symlinkat')(target, dirfd, name), 'symlink', what);
}

/** dev_t from major and minor, as glibc's makedev() packs them. */
export const makedev = (major: number, minor: number) => (major << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);

/** mknodat(2) by syscall: glibc before 2.33 exports no mknodat symbol. The mode goes through the umask. */
export function mknodat(dirfd: number, name: string, mode: number, dev: number, what = name) {
  check(syscall(sys().mknodat, 'int', dirfd, 'const char *', name, 'uint32_t', mode, 'uint64_t', dev), 'mknod', what);
}

/**
 * mount_setattr(2) (Linux 5.12) on the mount `fd` is open on (AT_EMPTY_PATH) and, with
 * AT_RECURSIVE, every mount below it, in one call: the only way to change a whole tree's flags
 * without walking mountinfo.
 */
export function mountSetattr(fd: number, flags: number, attrSet: number, attrClr = 0, what = `fd ${fd}`) {
  if (oldKernel()) throw new SysError('mount_setattr', ENOSYS, what);
  const attr = Buffer.alloc(32); // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; }
  attr.writeBigUInt64LE(BigInt(attrSet), 0);
  attr.writeBigUInt64LE(BigInt(attrClr), 8);
  check(syscall(sys().mount_setattr, 'int', fd, 'const char *', '', 'uint32_t', flags, 'void *', attr, 'size_t', attr.length), 'mount_setattr', what);
}

/** The path the kernel follows for an fd: mount(2) on it acts on exactly the dentry the fd holds. */
export const procFd = (fd: number) => `/proc/self/fd/${fd}`;

/** fchdir(2): the reattach helper's way back to the host's /proc/<self> after setns(mnt) moved its cwd into the container. */
export function fchdir(fd: number, what = `fd ${fd}`) {
  check(func('int fchdir(int fd)')(fd), 'chdir', what);
}
