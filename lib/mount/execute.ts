// Carries out a mount plan. Runs inside the stage only, after unshare(CLONE_NEWNS): every
// mount here lives and dies with the container's mount namespace, none reaches the host.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc, closeFd } from '../libc/seam';
import { MS, MNT_DETACH, S_IFCHR, S_IFBLK, S_IFIFO } from '../libc/constants';
import { nodeErrorText } from '../libc/errno';
import { makedev, procFd, O_PATH, O_CLOEXEC } from '../libc/paths';
import { MountOp } from './plan';
import { withResolved, ResolveOptions } from './resolve';
import { mountAt, readonlyRecursive, lockRecursive } from './remount';
import { hideHostKernelFs } from './noproc';
import { readMountinfo, under } from './mountinfo';
import { copyTree } from './copy';
import { SysError } from '../libc/errors';

const EEXIST = 17;

/** `beforePivot`: OCI's createContainer hooks, in the container's namespaces while the runtime's root is still the root. */
export function executePlan(ops: MountOp[], root: string, beforePivot?: () => void) {
  let pivoted = false;
  for (const op of ops) {
    if (!(op.op === 'mount' && op.regular) && op.op !== 'remount-ro') kernelFsDevs.clear(); // anything else may change what /proc and /sys are
    if (op.op === 'pivot') beforePivot?.();
    step(op, pivoted ? '/' : root);
    if (op.op === 'pivot') pivoted = true;
  }
}

/**
 * Every path an op names under `root` (the rootfs before pivot, "/" after) is resolved inside
 * it to an fd, and the op acts on the fd: the image's symlinks and a container racing on a
 * shared volume can neither lead box out of the root nor swap what it resolved. Paths not under
 * the root (the rootfs mount itself, "/") are box's own.
 */
function at<T>(root: string, p: string, opts: ResolveOptions, use: (fd: number, inner: string) => T): T {
  const inner = root === '/' ? p : p.startsWith(root + '/') ? p.slice(root.length) : undefined;
  if (inner === undefined) throw new Error(`mount plan: ${p} is not under ${root}`);
  return withResolved(root, inner, opts, (fd) => use(fd, inner));
}

/** The parent directory of `p` (created if missing) as an fd, and the last component's name. */
function atParent<T>(root: string, p: string, use: (dirFd: number, name: string) => T): T {
  const name = path.posix.basename(p);
  if (!name || name === '.' || name === '..') throw new Error(`mount plan: ${p} names no entry`);
  return at(root, path.posix.dirname(p), { create: 'dir' }, (dirFd) => use(dirFd, name));
}

function step(op: MountOp, root: string) {
  switch (op.op) {
    case 'private-root':
      libc.mount(null, '/', null, MS.REC | MS.PRIVATE);
      return;
    case 'copy-rootfs':
      copyLayers(op.from, op.to);
      return;
    case 'mount':
      if (op.target === root) { libc.mount(op.source, op.target, op.fstype, op.flags, op.data ?? null); return; }
      at(root, op.target, op.mkdir ? { create: op.flags & MS.BIND ? mountpointKind(op.source, op.mkdir) : op.mkdir } : {}, (fd, inner) => {
        if (op.regular) checkRegular(root, fd, inner);
        mountAt(op.source, fd, op.fstype, op.flags, op.data ?? null, inner);
        if (op.copyUp) copyUp(fd, root, op.target);
      });
      return;
    case 'mkdir':
      at(root, op.path, { create: 'dir', mode: op.mode }, () => undefined);
      return;
    case 'file':
      at(root, op.path, { create: 'file', mode: 0o600 }, () => undefined);
      return;
    case 'mknod':
      atParent(root, op.path, (dir, name) => {
        const type = op.type === 'b' ? S_IFBLK : op.type === 'p' ? S_IFIFO : S_IFCHR;
        try {
          libc.mknodat(dir, name, type | op.mode, op.type === 'p' ? 0 : makedev(op.major, op.minor), op.path);
        } catch (e: any) {
          if (e.errno === EEXIST) return; // already there (a /dev that is not a fresh tmpfs): kept, as runc keeps it
          throw e;
        }
        // mknod's mode went through the umask; chmod the node itself, through an fd (never a symlink)
        const fd = libc.openat(dir, name, O_PATH | fs.constants.O_NOFOLLOW | O_CLOEXEC, 0, op.path);
        try {
          libc.chmod(procFd(fd), op.mode);
          if (op.uid !== undefined || op.gid !== undefined) libc.chown(procFd(fd), op.uid ?? 0, op.gid ?? 0);
        } finally { closeFd(fd); }
      });
      return;
    case 'symlink':
      atParent(root, op.path, (dir, name) => {
        try {
          libc.symlinkat(op.target, dir, name, op.path);
        } catch (e: any) {
          // the same link already there (an OCI rootfs's own /dev) is what was asked
          if (e.errno !== EEXIST || readlinkOrNone(dir, name) !== op.target) throw e;
        }
      });
      return;
    case 'remount-ro':
      // -v SRC:DST:ro: read-only down to every submount. --read-only keeps Docker's meaning: only
      // the rootfs mount itself; /dev/shm, --tmpfs and rw volumes on it stay writable (users rely on that).
      at(root, op.path, {}, (fd, inner) => {
        if (op.recursive) readonlyRecursive(fd, inner);
        else mountAt(null, fd, null, MS.REMOUNT | MS.BIND | MS.RDONLY, null, inner);
      });
      return;
    case 'pivot':
      enterRoot(op.root, op.noPivot);
      return;
    case 'mask':
      mask(op.path, op.nullDev ?? '/dev/null');
      return;
    case 'detach':
      libc.umount2(op.path, MNT_DETACH);
      return;
    case 'remount':
      onMount(root, op.path, (target, what) => mountOn(null, target, MS.REMOUNT | MS.BIND | op.flags, what));
      return;
    case 'propagation':
      onMount(root, op.path, (target, what) => mountOn(null, target, op.flags, what));
      return;
    case 'private-parent':
      libc.mount(null, holdingMount(op.path), null, MS.PRIVATE);
      return;
    case 'sysctl':
      if (op.optional && !libc.exists(`${op.proc ?? '/proc'}/sys/${op.key.replace(/\./g, '/')}`)) return;
      writeSysctl(op.key, op.value, op.proc ?? '/proc');
      return;
    case 'cgroupfs':
      mountCgroupfs(root, op);
      return;
    case 'procview':
      mountViews(root, op);
      return;
    case 'readonly':
      // Docker's read-only /proc paths: bind onto itself, then the bind and everything below it read-only.
      if (!libc.exists(op.path)) return;
      at(root, op.path, {}, (fd, inner) => mountAt(procFd(fd), fd, null, MS.BIND | MS.REC, null, inner));
      at(root, op.path, {}, (fd, inner) => readonlyRecursive(fd, inner, true)); // resolved again: now the bind's root
      return;
  }
}

/**
 * The container's cgroups at /sys/fs/cgroup (plan.ts's cgroupfsOp says why binds): v2, one
 * bind; v1, a tmpfs, then each hierarchy's directory made in it and bound there, and the
 * co-mount symlinks. The tmpfs is fresh and nothing of the container runs yet, so names
 * under its fd are box's alone: one resolve of the target, not one per mount. Then one
 * mount_setattr over the whole tree (a bind ignores ro, nosuid, nodev, noexec until set).
 */
function mountCgroupfs(root: string, op: Extract<MountOp, { op: 'cgroupfs' }>) {
  at(root, op.target, {}, (fd, inner) => {
    if (op.v2) mountAt(op.v2, fd, null, MS.BIND, null, inner);
    else mountAt('tmpfs', fd, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=755', inner);
  });
  at(root, op.target, {}, (top, inner) => { // resolved again: the new mount's root
    for (const { name, dir } of op.v1 ?? []) {
      libc.mkdirat(top, name, 0o755, `${inner}/${name}`);
      mountOn(dir, `${procFd(top)}/${name}`, MS.BIND, `${inner}/${name}`);
    }
    for (const [name, target] of op.links ?? []) libc.symlinkat(target, top, name, `${inner}/${name}`);
    lockRecursive(top, inner, op.readonly, true);
  });
}

/** Flags and options of a view file's mount: read-only, a regular file (0444) as its root, anyone may read (allow_other), the kernel checks the mode (default_permissions). */
export const VIEW_FLAGS = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC;
export const viewData = (fd: number) => `fd=${fd},rootmode=100444,user_id=0,group_id=0,allow_other,default_permissions`;

/**
 * Each /dev/fuse fd straight over its file (/proc/meminfo, …): resolved inside the root
 * without following a symlink out (withResolved), and mounted only on a regular file of the
 * container's own procfs or sysfs — a volume or a planted link cannot aim it anywhere else
 * (such a target is left as it is).
 * The fds are closed right after, on success or not: they must never reach the container
 * (finish.ts's close_range would mark them close-on-exec anyway).
 */
function mountViews(root: string, op: Extract<MountOp, { op: 'procview' }>) {
  try {
    for (const f of op.files) {
      const under = (p: string) => (root === '/' ? p : root + p); // after the pivot (plan.ts): "/"
      at(root, under(f.target), {}, (fd, inner) => {
        const st = libc.fstat(fd);
        const fsDev = at(root, under(inner.startsWith('/sys/') ? '/sys' : '/proc'), {}, (k) => libc.fstat(k).dev);
        // a volume there (-v …/meminfo:/proc/meminfo, lxcfs's way) is the user's choice and wins, as
        // user mounts do in Docker: skipped, never followed elsewhere (its connection, never
        // mounted, polls POLLERR on the host and is closed)
        if (!st.isFile() || st.dev !== fsDev) return;
        mountAt('box-view', fd, 'fuse', VIEW_FLAGS, viewData(f.fd), inner);
      });
    }
  } finally {
    for (const f of op.files) { try { closeFd(f.fd); } catch { /* closed */ } }
  }
}

/**
 * runc's tmpcopyup (podman's --tmpfs default): the new mount gets what the image had there.
 * `under` was opened before the mount, so /proc/self/fd/N still leads to the directory beneath
 * it; the new mount is reached by resolving its path again. The mount's root takes the mode
 * of the directory it covers, as runc does.
 */
function copyUp(under: number, root: string, target: string) {
  at(root, target, {}, (top) => {
    copyTree(procFd(under), procFd(top));
    libc.chmod(procFd(top), libc.fstat(under).mode & 0o7777);
  });
}

function readlinkOrNone(dir: number, name: string): string | undefined {
  try { return libc.readlinkat(dir, name); } catch { return undefined; }
}

/**
 * A file box binds over a path of the image (/etc/hosts): resolved inside the root, yet the
 * image may have made that path a symlink to anything in it. The bind lands only on a regular
 * file, and never on the container's /proc or /sys (runc's checkProcMount): a hosts file over
 * /proc/sys/kernel/… would change what the kernel's files say.
 */
function checkRegular(root: string, fd: number, inner: string) {
  const st = libc.fstat(fd);
  if (!st.isFile()) throw new Error(`mount ${inner}: the image's ${inner} is not a regular file`);
  for (const kernelFs of ['/proc', '/sys']) {
    // resolved once for the three /etc files, bound one after the other (executePlan forgets
    // it at any other op)
    const key = `${root}\0${kernelFs}`;
    let dev = kernelFsDevs.get(key);
    if (dev === undefined) kernelFsDevs.set(key, dev = at(root, root === '/' ? kernelFs : root + kernelFs, {}, (k) => libc.fstat(k).dev));
    if (dev === st.dev) throw new Error(`mount ${inner}: the image's ${inner} leads into ${kernelFs}`);
  }
}

/** The device of the container's /proc and /sys (checkRegular), while the plan binds box's /etc files. */
const kernelFsDevs = new Map<string, number>();

/**
 * Act on the mount at `p`: "/" and the root itself are box's own paths (before the pivot "/"
 * is the host's root in this mount namespace); anything else is resolved inside the root.
 */
function onMount(root: string, p: string, use: (target: string, what: string) => void) {
  if (p === '/' || p === root) { use(p, p); return; }
  at(root, p, {}, (fd, inner) => use(procFd(fd), inner));
}

function mountOn(source: string | null, target: string, flags: number, what: string) {
  try {
    libc.mount(source, target, null, flags, null);
  } catch (e: any) {
    throw e instanceof SysError ? new SysError('mount', e.errno, what) : e;
  }
}

/** The mount point `p` lives on (the last mounted of the longest matching mount points). */
function holdingMount(p: string): string {
  let best = '/';
  for (const m of readMountinfo()) if (under(p, m.mountpoint) && m.mountpoint.length >= best.length) best = m.mountpoint;
  return best;
}

/** A sysctl of the container's own namespaces, through its /proc (mounted by the plan). */
function writeSysctl(key: string, value: string, proc: string) {
  if (!key || key.includes('/') || key.split('.').some((part) => !part || part === '..')) throw new Error(`sysctl "${key}": not a sysctl name`);
  const file = `${proc}/sys/${key.replace(/\./g, '/')}`;
  try {
    libc.writeFile(file, value);
  } catch (e: any) {
    throw new Error(`sysctl ${key}: ${nodeErrorText(e, 'write', file)}`);
  }
}

/**
 * Without overlayfs: copy the layers bottom-up, applying each one's whiteouts first (the
 * list unpacking wrote beside it): a removed path goes, an opaque directory is emptied.
 */
function copyLayers(topFirst: string[], to: string) {
  for (const layer of [...topFirst].reverse()) {
    let wh = { removed: [] as string[], opaque: [] as string[] };
    try { wh = JSON.parse(fs.readFileSync(path.join(path.dirname(layer), 'whiteouts.json'), 'utf8')); } catch { /* a plain rootfs */ }
    // The layers below may hold symlinks: resolve each whiteout inside the copy, never through them.
    for (const r of wh.removed) {
      const name = path.posix.basename(r);
      try {
        withResolved(to, path.posix.dirname(r), {}, (dir) => fs.rmSync(path.join(procFd(dir), name), { recursive: true, force: true }));
      } catch (e: any) { if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR') throw e; }
    }
    for (const d of wh.opaque) {
      try {
        withResolved(to, d, {}, (dir) => {
          if (!libc.fstat(dir).isDirectory()) return;
          for (const e of fs.readdirSync(procFd(dir))) fs.rmSync(path.join(procFd(dir), e), { recursive: true, force: true });
        });
      } catch (e: any) { if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR') throw e; }
    }
    copyTree(layer, to, (st) => st.isCharacterDevice() && st.rdev === 0); // overlay whiteouts: applied above
  }
}

/** A bind of a single file (-v /etc/hostname:/etc/hostname:ro) needs a file to mount on, not a directory. (A device's path, say /dev/sdb1 of an ext4 mount, says nothing: only binds are asked.) */
function mountpointKind(source: string, wanted: 'dir' | 'file'): 'dir' | 'file' {
  if (wanted === 'file' || !source.startsWith('/')) return wanted;
  try { return libc.stat(source).isDirectory() ? 'dir' : 'file'; } catch { return 'dir'; /* a fs type, not a path */ }
}

/**
 * pivot_root(".", ".") stacks the old root under the new one; unmounting "." (lazily)
 * then removes it, so nothing of the host stays reachable. pivot_root is EINVAL when the
 * current root is not a mount (initramfs/rootfs): then MS_MOVE + chroot, as runc does.
 */
function enterRoot(root: string, noPivot: boolean) {
  libc.chdir(root);
  if (!noPivot) {
    try {
      libc.pivotRoot('.', '.');
      libc.umount2('.', MNT_DETACH);
      libc.chdir('/');
      return;
    } catch (e: any) {
      if (e.code !== 'EINVAL') throw e;
    }
  }
  // The host's /proc and /sys would stay in this mount namespace under the moved root: hidden,
  // yet enough for the kernel to let a user namespace made inside mount a fresh proc or sysfs.
  hideHostKernelFs(root);
  libc.mount(root, '/', null, MS.MOVE);
  libc.chroot('.');
  libc.chdir('/');
}

function mask(p: string, nullDev: string) {
  let st: fs.Stats;
  try { st = libc.stat(p); } catch { return; }
  if (st.isDirectory()) libc.mount('tmpfs', p, 'tmpfs', MS.RDONLY, 'size=0,mode=755');
  else libc.mount(nullDev, p, null, MS.BIND);
}
