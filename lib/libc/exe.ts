// Executing a program that has no path: bytes box carries become a sealed memfd, run by fd.
// Used for --init (tini as the container's PID 1). Sealed, the file can never be written,
// truncated or grown again, by anyone, also not through /proc/<pid>/exe (CVE-2019-5736:
// a container rewriting the binary its init runs from); and no host file is involved, so
// the container sees nothing of the host's filesystem through /proc/1/exe.
// Both calls go through syscall(): glibc has no execveat wrapper before 2.34 (EL 8 has 2.28).
import * as fs from 'node:fs';
import { func, check, errno, sys, syscall } from './core';
import { SysError } from './errors';
import { MFD, F_ADD_SEALS, F_SEAL, AT_EMPTY_PATH } from './constants';

const EINVAL = 22;

function memfdCreate(name: string, flags: number): number {
  return check(syscall(sys().memfd_create, 'const char *', name, 'unsigned int', flags), 'memfd_create', name);
}

/**
 * A close-on-exec memfd holding `bytes`, executable and sealed against every change.
 * MFD_EXEC asks for an executable memfd explicitly: with the sysctl vm.memfd_noexec=1
 * (Linux ≥ 6.3) a memfd created without it is not executable. Kernels before 6.3 do not
 * know the flag (EINVAL) and make every memfd executable, so we retry without it there.
 */
export function sealedExecutable(name: string, bytes: Buffer): number {
  let fd: number;
  try {
    fd = memfdCreate(name, MFD.CLOEXEC | MFD.ALLOW_SEALING | MFD.EXEC);
  } catch (e) {
    if (!(e instanceof SysError) || e.errno !== EINVAL) throw e;
    fd = memfdCreate(name, MFD.CLOEXEC | MFD.ALLOW_SEALING);
  }
  try {
    for (let off = 0; off < bytes.length;) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    // F_SEAL_SEAL last of all: after it, not even the seals can change.
    const seals = F_SEAL.SEAL | F_SEAL.SHRINK | F_SEAL.GROW | F_SEAL.WRITE;
    check(func('int fcntl(int fd, int cmd, ...)')(fd, F_ADD_SEALS, 'int', seals), 'fcntl(F_ADD_SEALS)', name);
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** execveat(fd, "", argv, envp, AT_EMPTY_PATH): execute the open file itself. Returns only by throwing. */
export function execveatFd(fd: number, argv: string[], env: string[], what: string): never {
  syscall(sys().execveat, 'int', fd, 'const char *', '', 'const char **', [...argv, null], 'const char **', [...env, null], 'int', AT_EMPTY_PATH);
  throw new SysError('execveat', errno(), what);
}
