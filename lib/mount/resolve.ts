// Resolve a container path inside a root directory to an O_PATH fd, the way the container
// will see it: every symlink (absolute or relative) and every ".." stays inside the root.
// An fd, not a string: a string is resolved again by the kernel at use, and a container that
// swaps a directory for a symlink in between (a shared volume, CVE-2021-30465) would make box
// create or mount on the host. Callers act on the fd (mkdirat, mount on /proc/self/fd/N).
//
// openat2(RESOLVE_IN_ROOT) does it in the kernel (5.6+). Older kernels (EL8's 4.18) get
// resolveFallback: one openat(O_PATH|O_NOFOLLOW) per component from the root fd, symlinks
// read with readlinkat on the fd just opened and expanded inside the root, ".." going back
// along the directories actually walked, never above the root.
import * as fs from 'node:fs';
import { libc, closeFd } from '../libc/seam';
import { procFd, O_PATH, O_CLOEXEC, RESOLVE } from '../libc/paths';
import { SysError } from '../libc/errors';
import { AT_FDCWD } from '../libc/constants';

const { O_NOFOLLOW, O_DIRECTORY, O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_NONBLOCK } = fs.constants;
const ENOENT = 2, ENOTDIR = 20, EEXIST = 17, ELOOP = 40, EAGAIN = 11, ENOSYS = 38, EPERM = 1;
const MAX_LINKS = 40; // the kernel's limit too

export interface ResolveOptions {
  /** Create what is missing: directories, and for 'file' an empty file as the last component. */
  create?: 'dir' | 'file';
  /** Mode of created directories and files (the umask applies). */
  mode?: number;
}

let noOpenat2 = false;

/** The root as an O_PATH directory fd. `root` itself is box's own path (trusted). */
export function openRoot(root: string): number {
  return libc.openat(AT_FDCWD, root, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, root);
}

/** An O_PATH fd for `unsafe` resolved inside `rootFd`; ENOENT unless opts.create. The caller closes it. */
export function resolveIn(rootFd: number, unsafe: string, opts: ResolveOptions = {}): number {
  if (!noOpenat2) {
    for (let tries = 0; tries < 16; tries++) {
      try {
        // NO_MAGICLINKS: a /proc/<pid>/root inside the root must not lead anywhere else.
        return libc.openat2(rootFd, unsafe, O_PATH | O_CLOEXEC, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS, unsafe);
      } catch (e: any) {
        if (e.errno === EAGAIN) continue; // a rename raced with ".." resolution: the kernel asks to retry
        // ENOSYS: before 5.6; EPERM: a seccomp filter that does not know openat2 (old Docker profiles)
        if (e.errno === ENOSYS || e.errno === EPERM) { noOpenat2 = true; break; }
        if (e.errno === ENOENT && opts.create) break; // the walk below creates the missing part
        throw e;
      }
    }
  }
  return resolveFallback(rootFd, unsafe, opts);
}

/** The fd walk, for kernels without openat2 and for creating what is missing. Exported for tests. */
export function resolveFallback(rootFd: number, unsafe: string, opts: ResolveOptions = {}): number {
  const todo = unsafe.split('/');
  const stack: number[] = []; // directories walked below the root: ".." pops one
  let links = 0;
  const fail = (errno: number): never => { throw new SysError('resolve', errno, unsafe); };
  try {
    while (todo.length) {
      const part = todo.shift()!;
      if (part === '' || part === '.') continue;
      if (part === '..') { if (stack.length) closeFd(stack.pop()!); continue; }
      const dir = stack.length ? stack[stack.length - 1] : rootFd;
      const last = todo.every((p) => p === '' || p === '.');
      let fd = openComponent(dir, part, unsafe);
      if (fd < 0) {
        if (!opts.create) fail(ENOENT);
        create(dir, part, last && opts.create === 'file' ? 'file' : 'dir', opts.mode ?? 0o755, unsafe);
        fd = openComponent(dir, part, unsafe); // O_NOFOLLOW again: if it was swapped for a symlink, that is expanded below
        if (fd < 0) fail(ENOENT);
      }
      const st = libc.fstat(fd);
      if (st.isSymbolicLink()) {
        let target: string;
        try { target = libc.readlinkat(fd, '', unsafe); } finally { closeFd(fd); }
        if (++links > MAX_LINKS) fail(ELOOP);
        if (target.startsWith('/')) while (stack.length) closeFd(stack.pop()!);
        todo.unshift(...target.split('/'));
        continue;
      }
      stack.push(fd);
      if (!st.isDirectory() && todo.some((p) => p !== '' && p !== '.')) fail(ENOTDIR);
    }
    return stack.length ? stack.pop()! : libc.openat(rootFd, '.', O_PATH | O_CLOEXEC, 0, unsafe);
  } finally {
    for (const fd of stack) closeFd(fd);
  }
}

/** One component, never following it: an fd, or -1 when it does not exist. */
function openComponent(dir: number, name: string, what: string): number {
  try {
    return libc.openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, what);
  } catch (e: any) {
    if (e.errno === ENOENT) return -1;
    throw e;
  }
}

/** mkdirat, or an empty file with O_EXCL|O_NOFOLLOW; someone else creating it first is fine (it is reopened and checked). */
function create(dir: number, name: string, kind: 'dir' | 'file', mode: number, what: string) {
  try {
    if (kind === 'dir') libc.mkdirat(dir, name, mode, what);
    else closeFd(libc.openat(dir, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode, what));
  } catch (e: any) {
    if (e.errno !== EEXIST) throw e;
  }
}

/** Run `use` on `unsafe` resolved inside the directory `root`; every fd is closed after. */
export function withResolved<T>(root: string, unsafe: string, opts: ResolveOptions, use: (fd: number) => T): T {
  const rootFd = openRoot(root);
  try {
    const fd = resolveIn(rootFd, unsafe, opts);
    try { return use(fd); } finally { closeFd(fd); }
  } finally {
    closeFd(rootFd);
  }
}

/**
 * A small regular file inside `root` (an image's /etc/passwd, an archive's manifest.json), read
 * without leaving the root, without blocking on a FIFO and without reading a huge file whole.
 * undefined when it does not exist; throws when it is not a regular file or is over `max` bytes.
 */
export function readFileIn(root: string, unsafe: string, max: number): Buffer | undefined {
  try {
    return withResolved(root, unsafe, {}, (fd) => readRegular(fd, unsafe, max));
  } catch (e: any) {
    if (e.errno === ENOENT) return undefined;
    throw e;
  }
}

/** Read the regular file an O_PATH fd holds: checked before opening (a FIFO would block) and after. */
export function readRegular(pathFd: number, what: string, max = Infinity): Buffer {
  if (!libc.fstat(pathFd).isFile()) throw new Error(`${what}: not a regular file`);
  // Reopening through /proc/self/fd gives a readable fd on exactly this inode (no path lookup).
  const fd = libc.open(procFd(pathFd), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  try {
    const st = libc.fstat(fd);
    if (!st.isFile()) throw new Error(`${what}: not a regular file`);
    if (st.size > max) throw new Error(`${what}: larger than ${max} bytes`);
    const out = Buffer.alloc(st.size);
    let n = 0;
    while (n < out.length) {
      const r = libc.read(fd, out.subarray(n), n);
      if (r === 0) break;
      n += r;
    }
    return out.subarray(0, n);
  } finally {
    closeFd(fd);
  }
}
