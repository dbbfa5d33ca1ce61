// An OCI bundle's filesystem (runtime-spec config.md "Root", "Mounts"; config-linux.md
// "Devices", "Sysctl", "Masked Paths", "Readonly Paths", "Rootfs Mount Propagation") as box's
// mount plan: the same MountOp list `box run` builds (lib/mount/plan.ts), carried out by the
// same executor inside the stage after unshare(CLONE_NEWNS). Pure: nothing on the host is read
// here; the executor resolves every destination inside the root and stats bind sources.
//
// The order is runc's: "/" private (or what rootfsPropagation asks) → the root bound onto
// itself → mounts[] in order → default devices, linux.devices, /dev symlinks (unless /dev is a
// bind) → /dev/console for a terminal → pivot_root → the root's propagation → sysctls →
// masked paths → read-only paths → the read-only tmpfs and /dev mounts (mounted writable so
// that they could be filled) → the root read-only.
import * as path from 'node:path';
import { MS } from '../libc/constants';
import { MountOp, DEVICES } from '../mount/plan';

export interface OciMountOptions {
  /** The bundle directory: relative bind sources are resolved against it (runc runs in it). */
  bundle?: string;
  /** MS_MOVE + chroot instead of pivot_root (runc's --no-pivot). */
  noPivot?: boolean;
  /**
   * cgroup v1: the container's own directory in each hierarchy, `name` being the hierarchy's
   * directory under /sys/fs/cgroup ("memory", "cpu,cpuacct", "unified", "systemd"). A `cgroup`
   * mount becomes a tmpfs holding one bind of each (runc's way), so the container sees its own
   * cgroups only, and can read but not change their limits when the mount is ro.
   */
  cgroupDirs?: { name: string; dir: string }[];
  /** cgroup v2: the container's own cgroup directory, bound at the destination. */
  cgroup2Dir?: string;
  // Neither (say, no cgroups known): an empty tmpfs at the destination. Never a fresh cgroup
  // mount: the plan runs before the stage joins its cgroups and makes its cgroup namespace
  // (init.ts), so a cgroup2 mount would show the host's whole hierarchy.
}

/**
 * ociMountPlan's cgroup options from the container's cgroup manager (lib/cgroup: `mode` and
 * `dirs`, one per hierarchy in v1) and the cgroupsPath its directories were made at: each v1
 * hierarchy is named by its mount point's directory ("memory", "cpu,cpuacct").
 */
export function cgroupMountDirs(cg: { mode: 'v1' | 'v2'; dirs: string[] }, cgroupPath: string): Pick<OciMountOptions, 'cgroupDirs' | 'cgroup2Dir'> {
  if (cg.mode === 'v2') return cg.dirs.length ? { cgroup2Dir: cg.dirs[0] } : {};
  const rel = '/' + cgroupPath.split('/').filter(Boolean).join('/');
  return {
    cgroupDirs: cg.dirs.map((dir) => {
      const mountpoint = dir.endsWith(rel) ? dir.slice(0, -rel.length) : path.posix.dirname(dir);
      return { name: path.posix.basename(mountpoint), dir };
    }),
  };
}

/** runc's table (libcontainer/specconv): [clears the flag?, flag]. */
const FLAGS: Record<string, [boolean, number]> = {
  defaults: [false, 0],
  ro: [false, MS.RDONLY], rw: [true, MS.RDONLY],
  nosuid: [false, MS.NOSUID], suid: [true, MS.NOSUID],
  nodev: [false, MS.NODEV], dev: [true, MS.NODEV],
  noexec: [false, MS.NOEXEC], exec: [true, MS.NOEXEC],
  sync: [false, MS.SYNCHRONOUS], async: [true, MS.SYNCHRONOUS],
  dirsync: [false, MS.DIRSYNC],
  remount: [false, MS.REMOUNT],
  mand: [false, MS.MANDLOCK], nomand: [true, MS.MANDLOCK],
  noatime: [false, MS.NOATIME], atime: [true, MS.NOATIME],
  nodiratime: [false, MS.NODIRATIME], diratime: [true, MS.NODIRATIME],
  relatime: [false, MS.RELATIME], norelatime: [true, MS.RELATIME],
  strictatime: [false, MS.STRICTATIME], nostrictatime: [true, MS.STRICTATIME],
  nosymfollow: [false, MS.NOSYMFOLLOW], symfollow: [true, MS.NOSYMFOLLOW],
  acl: [false, MS.POSIXACL], noacl: [true, MS.POSIXACL],
  iversion: [false, MS.I_VERSION], noiversion: [true, MS.I_VERSION],
  lazytime: [false, MS.LAZYTIME], nolazytime: [true, MS.LAZYTIME],
  silent: [false, MS.SILENT], loud: [true, MS.SILENT],
  bind: [false, MS.BIND], rbind: [false, MS.BIND | MS.REC],
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

/** runc's recursive mount attributes (mount_setattr): box does rro; the others are refused, not passed to the kernel as data. */
const RECURSIVE_ATTRS = new Set(['rrw', 'rnosuid', 'rsuid', 'rnodev', 'rdev', 'rnoexec', 'rexec', 'rnodiratime', 'rdiratime',
  'rrelatime', 'rnorelatime', 'rnoatime', 'ratime', 'rstrictatime', 'rnostrictatime', 'rnosymfollow', 'rsymfollow']);

/** The sysctls of the IPC namespace (runc's validator); fs.mqueue.* too. */
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

const DEV_SYMLINKS: [target: string, path: string][] = [
  ['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'], ['/proc/self/fd/1', '/dev/stdout'], ['/proc/self/fd/2', '/dev/stderr'],
];

const NOSUID_NODEV_NOEXEC = MS.NOSUID | MS.NODEV | MS.NOEXEC;

export interface ParsedOptions {
  flags: number;            // MS_* of the mount itself (bind, rbind included)
  propagation: number[];    // each applied by its own mount call after the mount
  data: string;             // what the filesystem reads (size=65536k, mode=755, newinstance…)
  recursiveReadonly: boolean;
  copyUp: boolean;          // tmpcopyup: the image's files at the destination copied into the new tmpfs
}

/** A mount's options as runc reads them; `where` names the mount in errors. */
export function parseMountOptions(options: unknown, where: string): ParsedOptions {
  if (options !== undefined && !(Array.isArray(options) && options.every((o) => typeof o === 'string'))) throw new Error(`${where}: options must be an array of strings`);
  let flags = 0;
  const propagation: number[] = [], data: string[] = [];
  let recursiveReadonly = false, copyUp = false;
  for (const o of (options as string[] | undefined) ?? []) {
    if (o === 'idmap' || o === 'ridmap') throw new Error(`${where}: idmap mounts are not supported`);
    if (o === 'rro') { recursiveReadonly = true; continue; }
    if (RECURSIVE_ATTRS.has(o)) throw new Error(`${where}: the recursive mount attribute ${o} is not supported (only rro)`);
    if (o === 'tmpcopyup') { copyUp = true; continue; }
    if (o === 'notmpcopyup') continue;
    const f = FLAGS[o];
    if (f) flags = f[0] ? flags & ~f[1] : flags | f[1];
    else if (PROPAGATION[o] !== undefined) propagation.push(PROPAGATION[o]);
    else data.push(o);
  }
  return { flags, propagation, data: data.join(','), recursiveReadonly, copyUp };
}

/** Where a container path lands under the root before the pivot: ".." cannot climb above it. */
function under(root: string, p: string): string {
  const n = path.posix.normalize(p).replace(/\/+$/, '');
  return n ? root + n : root;
}
const clean = (p: string) => path.posix.normalize(p).replace(/(.)\/+$/, '$1');

function absolute(p: unknown, where: string, what = 'path'): string {
  if (typeof p !== 'string' || !p.startsWith('/')) throw new Error(`${where}: the ${what} must be an absolute path (got ${JSON.stringify(p)})`);
  return p;
}

export function ociMountPlan(config: any, rootPath: string, opts: OciMountOptions = {}): MountOp[] {
  const root = absolute(rootPath, 'root.path').replace(/(.)\/+$/, '$1');
  const linux = config?.linux ?? {};
  const mounts: any[] = config?.mounts ?? [];
  if (!Array.isArray(mounts)) throw new Error('config.json mounts: not an array');
  const ops: MountOp[] = [];
  const late: MountOp[] = []; // after the pivot, before root.readonly

  const rootProp = linux.rootfsPropagation ?? 'rprivate';
  const rootFlags = PROPAGATION[rootProp];
  if (rootFlags === undefined) throw new Error(`config.json linux.rootfsPropagation: unknown value ${JSON.stringify(rootProp)}`);
  if (rootFlags === (MS.PRIVATE | MS.REC)) ops.push({ op: 'private-root' });
  else ops.push({ op: 'propagation', path: '/', flags: rootFlags }, { op: 'private-parent', path: root });
  ops.push({ op: 'mount', source: root, target: root, fstype: null, flags: MS.BIND | MS.REC });

  mounts.forEach((m, i) => addMount(ops, late, m, `config.json mounts[${i}] (${m?.destination})`, root, opts));

  const destinations = new Set(mounts.map((m) => clean(m.destination)));
  const devBound = mounts.some((m) => clean(m.destination) === '/dev' && isBind(m, parseMountOptions(m.options, '').flags));
  if (!devBound) {
    // runc's rule: a /dev that is not the host's gets the default nodes and links (those the config does not provide)
    const devices: any[] = linux.devices ?? [];
    if (!Array.isArray(devices)) throw new Error('config.json linux.devices: not an array');
    const provided = new Set([...destinations, ...devices.map((d) => clean(String(d?.path)))]);
    for (const [name, major, minor] of DEVICES) {
      const p = `/dev/${name}`;
      if (!provided.has(p)) ops.push({ op: 'mknod', path: under(root, p), major, minor, mode: 0o666 });
    }
    devices.forEach((d, i) => ops.push(device(d, `config.json linux.devices[${i}] (${d?.path})`, root)));
    if (!provided.has('/dev/ptmx')) ops.push({ op: 'symlink', target: 'pts/ptmx', path: under(root, '/dev/ptmx') });
    for (const [target, p] of DEV_SYMLINKS) if (!provided.has(p)) ops.push({ op: 'symlink', target, path: under(root, p) });
  }
  if (config?.process?.terminal) ops.push({ op: 'file', path: under(root, '/dev/console') }); // the pty is bound over it at start

  ops.push({ op: 'pivot', root, noPivot: !!opts.noPivot });
  // Now "/" is the container's root mount, a bind of its own: what was asked of it is no longer the host's.
  if (rootFlags !== (MS.PRIVATE | MS.REC) && !(rootFlags & MS.PRIVATE)) ops.push({ op: 'propagation', path: '/', flags: rootFlags });

  const namespaces = new Set<string>((linux.namespaces ?? []).map((n: any) => n?.type));
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    checkSysctl(key, namespaces);
    ops.push({ op: 'sysctl', key, value: String(value) });
  }
  for (const p of linux.maskedPaths ?? []) ops.push({ op: 'mask', path: clean(absolute(p, 'config.json linux.maskedPaths')) });
  for (const p of linux.readonlyPaths ?? []) ops.push({ op: 'readonly', path: clean(absolute(p, 'config.json linux.readonlyPaths')) });
  ops.push(...late);
  // the root mount alone, as runc (and Docker's --read-only): the mounts on it keep their own flags
  if (config?.root?.readonly) ops.push({ op: 'remount-ro', path: '/', recursive: false });
  return ops;
}

/** A bind: the type says so, or the options do (runc accepts both; "none" is common). */
function isBind(m: any, flags: number): boolean {
  return m?.type === 'bind' || !!(flags & MS.BIND);
}

function addMount(ops: MountOp[], late: MountOp[], m: any, where: string, root: string, opts: OciMountOptions) {
  if (!m || typeof m !== 'object') throw new Error(`${where}: not an object`);
  const dest = clean(absolute(m.destination, where, 'destination'));
  if (m.uidMappings || m.gidMappings) throw new Error(`${where}: idmap mounts are not supported`);
  const o = parseMountOptions(m.options, where);
  const target = under(root, dest);
  const type: string = m.type ?? '';

  if ((type === 'cgroup' || type === 'cgroup2') && !isBind(m, o.flags)) {
    cgroupMount(ops, o, target, where, opts);
  } else if (isBind(m, o.flags)) {
    if (typeof m.source !== 'string' || !m.source) throw new Error(`${where}: a bind mount needs a source`);
    let source: string = m.source;
    if (!source.startsWith('/')) {
      if (!opts.bundle) throw new Error(`${where}: the relative source ${source} needs the bundle directory`);
      source = path.posix.resolve(opts.bundle, source);
    }
    bind(ops, source, target, o.flags);
  } else {
    if (!type) throw new Error(`${where}: no type (and not a bind)`);
    // runc mounts tmpfs and /dev writable first, so that they can be filled (devices, mount
    // points of later mounts), and makes them read-only at the end.
    const later = !!(o.flags & MS.RDONLY) && (type === 'tmpfs' || dest === '/dev');
    ops.push({
      op: 'mount', source: typeof m.source === 'string' && m.source ? m.source : type, target, fstype: type,
      flags: later ? o.flags & ~MS.RDONLY : o.flags, ...(o.data ? { data: o.data } : {}), mkdir: 'dir',
      ...(o.copyUp && type === 'tmpfs' ? { copyUp: true } : {}),
    });
    if (later) late.push({ op: 'remount', path: dest, flags: o.flags & ~(MS.REMOUNT | MS.BIND | MS.REC) });
  }
  for (const flags of o.propagation) ops.push({ op: 'propagation', path: target, flags });
  if (o.recursiveReadonly) ops.push({ op: 'remount-ro', path: target, recursive: true });
}

/**
 * A bind ignores every flag but MS_REC: ro, nosuid, nodev, noexec… take effect by a remount of
 * the new mount (MS_REMOUNT|MS_BIND|flags, which changes that mount only, not its filesystem).
 */
function bind(ops: MountOp[], source: string, target: string, flags: number) {
  ops.push({ op: 'mount', source, target, fstype: null, flags: MS.BIND | (flags & MS.REC), mkdir: 'dir' }); // file or dir: as the source is
  const rest = flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
  if (rest) ops.push({ op: 'remount', path: target, flags: rest });
}

function cgroupMount(ops: MountOp[], o: ParsedOptions, target: string, where: string, opts: OciMountOptions) {
  const rest = o.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
  if (opts.cgroupDirs?.length) {
    ops.push({ op: 'mount', source: 'tmpfs', target, fstype: 'tmpfs', flags: NOSUID_NODEV_NOEXEC, data: 'mode=755', mkdir: 'dir' });
    const names = new Set(opts.cgroupDirs.map((c) => c.name));
    for (const { name, dir } of opts.cgroupDirs) {
      if (!name || name.includes('/') || name === '.' || name === '..') throw new Error(`${where}: bad cgroup hierarchy name ${JSON.stringify(name)}`);
      bind(ops, absolute(dir, where, `directory of cgroup ${name}`), `${target}/${name}`, MS.REC | rest);
    }
    // co-mounted controllers ("cpu,cpuacct") are also reachable by each name, as on the host
    for (const name of names) {
      if (!name.includes(',')) continue;
      for (const part of name.split(',')) if (!names.has(part)) ops.push({ op: 'symlink', target: name, path: `${target}/${part}` });
    }
    if (o.flags & MS.RDONLY) ops.push({ op: 'remount', path: target, flags: NOSUID_NODEV_NOEXEC | MS.RDONLY });
  } else if (opts.cgroup2Dir) {
    bind(ops, absolute(opts.cgroup2Dir, where, 'cgroup directory'), target, MS.REC | rest);
  } else {
    ops.push({ op: 'mount', source: 'tmpfs', target, fstype: 'tmpfs', flags: NOSUID_NODEV_NOEXEC | (o.flags & MS.RDONLY), data: 'mode=755,size=0', mkdir: 'dir' });
  }
}

function device(d: any, where: string, root: string): MountOp {
  const p = clean(absolute(d?.path, where));
  const type = d.type === 'u' ? 'c' : d.type;
  if (type !== 'c' && type !== 'b' && type !== 'p') throw new Error(`${where}: type must be c, u, b or p (got ${JSON.stringify(d.type)})`);
  const num = (v: unknown, what: string) => {
    if (!Number.isInteger(v) || (v as number) < 0) throw new Error(`${where}: ${what} must be a non-negative integer (got ${JSON.stringify(v)})`);
    return v as number;
  };
  const major = type === 'p' ? 0 : num(d.major, 'major'), minor = type === 'p' ? 0 : num(d.minor, 'minor');
  const mode = d.fileMode === undefined ? 0o666 : num(d.fileMode, 'fileMode') & 0o7777;
  return {
    op: 'mknod', path: under(root, p), type, major, minor, mode,
    ...(d.uid !== undefined ? { uid: num(d.uid, 'uid') } : {}), ...(d.gid !== undefined ? { gid: num(d.gid, 'gid') } : {}),
  };
}

/**
 * runc's rule: a sysctl is written only in a namespace the container has of its own, else it
 * would change the host. A namespace joined by path counts as the container's own (runc also
 * checks that a joined network namespace is not the host's: the caller must, it needs the host).
 */
function checkSysctl(key: string, namespaces: Set<string>) {
  const where = `config.json linux.sysctl ${JSON.stringify(key)}`;
  if (!key || key.includes('/') || key.split('.').some((part) => !part || part === '..')) throw new Error(`${where}: not a sysctl name`);
  const need = (ns: string, what: string) => {
    if (!namespaces.has(ns)) throw new Error(`${where}: not allowed in the host's ${what} namespace`);
  };
  if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) return need('ipc', 'IPC');
  if (key.startsWith('net.')) return need('network', 'network');
  if (key === 'kernel.domainname') return need('uts', 'UTS');
  if (key === 'kernel.hostname') throw new Error(`${where}: use the "hostname" field of config.json`);
  throw new Error(`${where}: not in a separate kernel namespace`);
}
