// The Node binary a stage runs from, made unwritable through any handle a container could
// get on it (CVE-2019-5736): the `__init` stage is the container's PID 1 until it execs, so a
// command like `#!/proc/self/exe` makes the container run — and hold an fd on — the very file
// the stage was executed from. Once nothing executes it, a writable reopen of that fd would
// rewrite the host's `node`. The stage is therefore executed from a clone of the binary that
// cannot be written:
//  - a detached, read-only bind mount of it (open_tree(OPEN_TREE_CLONE) + mount_setattr
//    RDONLY, kernel 5.12+): no copy, no mount in any namespace, nothing to clean up; a
//    reopen for writing fails with EROFS, and a container cannot remount a mount that is not
//    in its namespace;
//  - else a sealed memfd copy (F_SEAL_WRITE|SHRINK|GROW|SEAL): writes fail with EPERM.
import * as fs from 'node:fs';
import { func, check, syscall, sys, errno, pretendOldKernel } from './core';

const AT_FDCWD = -100, AT_EMPTY_PATH = 0x1000;
const OPEN_TREE_CLONE = 1, OPEN_TREE_CLOEXEC = 0o2000000, MOUNT_ATTR_RDONLY = 1n;
const MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
const F_ADD_SEALS = 1033, F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8;

/** A read-only detached bind mount of `file`, as an fd; undefined where the kernel lacks it. */
export function readOnlyClone(file: string): number | undefined {
  if (pretendOldKernel()) return undefined;
  const fd = syscall(sys().open_tree, 'int', AT_FDCWD, 'const char *', file, 'unsigned int', OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0) return undefined; // ENOSYS before 5.2
  const attr = Buffer.alloc(32); // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }
  attr.writeBigUInt64LE(MOUNT_ATTR_RDONLY, 0);
  if (syscall(sys().mount_setattr, 'int', fd, 'const char *', '', 'unsigned int', AT_EMPTY_PATH, 'void *', attr, 'size_t', attr.length) < 0) {
    fs.closeSync(fd); // ENOSYS before 5.12: a writable clone is no protection
    return undefined;
  }
  return fd;
}

/** A sealed memfd holding `bytes` (or a copy of the file `from`): nobody can ever write it. */
export function sealedMemfd(name: string, from: { bytes?: Buffer; file?: string }): number {
  const fd = check(func('int memfd_create(const char *name, unsigned int flags)')(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), 'memfd_create', name);
  try {
    if (from.bytes) {
      for (let off = 0; off < from.bytes.length;) off += fs.writeSync(fd, from.bytes, off);
    } else {
      const src = fs.openSync(from.file!, 'r');
      try {
        const size = fs.fstatSync(src).size;
        const sendfile = func('long sendfile(int out, int in, void *offset, size_t count)');
        for (let done = 0; done < size;) {
          const n = Number(sendfile(fd, src, null, size - done));
          if (n <= 0) throw new Error(`sendfile ${from.file}: errno ${errno()}`);
          done += n;
        }
      } finally {
        fs.closeSync(src);
      }
    }
    check(func('int fcntl(int fd, int cmd, ...)')(fd, F_ADD_SEALS, 'int', F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE), 'fcntl(F_ADD_SEALS)', name);
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}
