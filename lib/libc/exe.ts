// Executables no container can ever write (CVE-2019-5736: a container that gets an fd on the
// binary it, or a box process it can see, runs from, rewrites it once nothing executes it):
//  - sealedExecutable: bytes box carries (tini for --init), or a copy of a file, in a memfd
//    sealed against every change, run by fd: no host file is involved at all;
//  - readOnlyClone: the `node` a stage runs from, as a detached read-only bind mount of the
//    file (open_tree(OPEN_TREE_CLONE) + mount_setattr RDONLY, 5.12+): no copy of 100 MB, no
//    mount in any namespace, nothing to clean up; a reopen for writing fails with EROFS, and a
//    container cannot remount a mount that is not in its namespace. Older kernels get a
//    sealed memfd copy instead (about 85 ms and 100 MB per stage, measured here).
// Syscalls through syscall(): glibc has no execveat wrapper before 2.34 (EL 8 has 2.28).
import * as fs from 'node:fs';
import { func, check, errno, sys, syscall, pretendOldKernel } from './core';
import { SysError } from './errors';
import { MFD, F_ADD_SEALS, F_SEAL, AT_EMPTY_PATH, AT_FDCWD } from './constants';
import { mountSetattr, MOUNT_ATTR } from './paths';

const EINVAL = 22;
const OPEN_TREE_CLONE = 1, OPEN_TREE_CLOEXEC = 0o2000000;

function memfdCreate(name: string, flags: number): number {
  return check(syscall(sys().memfd_create, 'const char *', name, 'unsigned int', flags), 'memfd_create', name);
}

/**
 * A close-on-exec memfd holding `source` (bytes, or a copy of the file at that path),
 * executable and sealed against every change. MFD_EXEC asks for an executable memfd
 * explicitly: with the sysctl vm.memfd_noexec=1 (Linux ≥ 6.3) a memfd created without it is
 * not executable. Kernels before 6.3 do not know the flag (EINVAL) and make every memfd
 * executable, so we retry without it there.
 */
export function sealedExecutable(name: string, source: Buffer | string): number {
  let fd: number;
  try {
    fd = memfdCreate(name, MFD.CLOEXEC | MFD.ALLOW_SEALING | MFD.EXEC);
  } catch (e) {
    if (!(e instanceof SysError) || e.errno !== EINVAL) throw e;
    fd = memfdCreate(name, MFD.CLOEXEC | MFD.ALLOW_SEALING);
  }
  try {
    if (typeof source === 'string') copyInto(fd, source);
    else for (let off = 0; off < source.length;) off += fs.writeSync(fd, source, off, source.length - off);
    // F_SEAL_SEAL last of all: after it, not even the seals can change.
    const seals = F_SEAL.SEAL | F_SEAL.SHRINK | F_SEAL.GROW | F_SEAL.WRITE;
    check(func('int fcntl(int fd, int cmd, ...)')(fd, F_ADD_SEALS, 'int', seals), 'fcntl(F_ADD_SEALS)', name);
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** Copy a file into `out` in the kernel (sendfile): 100 MB of node never passes through JS. */
function copyInto(out: number, file: string) {
  const src = fs.openSync(file, 'r');
  try {
    const sendfile = func('long sendfile(int out, int in, void *offset, size_t count)');
    for (let left = fs.fstatSync(src).size; left > 0;) {
      const n = Number(sendfile(out, src, null, left));
      if (n <= 0) throw new SysError('sendfile', n < 0 ? errno() : 5 /* EIO: the file shrank */, file);
      left -= n;
    }
  } finally {
    fs.closeSync(src);
  }
}

/** A read-only detached bind mount of `file`, as an fd; undefined where the kernel lacks it. */
export function readOnlyClone(file: string): number | undefined {
  if (pretendOldKernel()) return undefined;
  const fd = syscall(sys().open_tree, 'int', AT_FDCWD, 'const char *', file, 'unsigned int', OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0) return undefined; // ENOSYS before 5.2
  try {
    mountSetattr(fd, AT_EMPTY_PATH, MOUNT_ATTR.RDONLY, 0, file);
    return fd;
  } catch {
    fs.closeSync(fd); // ENOSYS before 5.12: a writable clone is no protection
    return undefined;
  }
}

/** execveat(fd, "", argv, envp, AT_EMPTY_PATH): execute the open file itself. Returns only by throwing. */
export function execveatFd(fd: number, argv: string[], env: string[], what: string): never {
  syscall(sys().execveat, 'int', fd, 'const char *', '', 'const char **', [...argv, null], 'const char **', [...env, null], 'int', AT_EMPTY_PATH);
  throw new SysError('execveat', errno(), what);
}
