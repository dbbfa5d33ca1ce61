// The container's filesystem as data: an ordered list of operations, built from the spec
// by a pure function (unit-tested without root) and carried out by execute.ts.
import * as path from 'node:path';
import { MS } from '../libc/constants';
import { ETC_FILES } from '../options/etc';
import { StageConfig, ContainerSpec } from '../options/types';

export type MountOp =
  | { op: 'private-root' }                        // stop our mounts propagating to the host
  | { op: 'mount'; source: string; target: string; fstype: string | null; flags: number; data?: string; mkdir?: 'dir' | 'file'; copyUp?: boolean; regular?: boolean } // copyUp: what was there copied into the new mount (runc's tmpcopyup); regular: the target must be a regular file, not on the container's /proc or /sys (a symlink the image planted cannot aim the bind there)
  | { op: 'copy-rootfs'; from: string[]; to: string } // no overlayfs: a private copy of the layers (top first)
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'file'; path: string }                  // an empty file to bind something over
  | { op: 'mknod'; path: string; major: number; minor: number; mode: number; type?: 'c' | 'b' | 'p'; uid?: number; gid?: number } // type c unless said; uid/gid: chowned after
  | { op: 'symlink'; target: string; path: string }
  | { op: 'remount-ro'; path: string; recursive: boolean } // recursive: every mount below it too
  | { op: 'pivot'; root: string; noPivot: boolean }
  | { op: 'mask'; path: string; nullDev?: string } // /dev/null (or nullDev: the container's own node, never the host's) over a file, an empty read-only tmpfs over a directory
  | { op: 'detach'; path: string }                 // box's own mount at path (and all below it) detached: prepared trees a spec does not use
  | { op: 'readonly'; path: string }               // bind onto itself, then read-only with everything below
  | { op: 'procview'; files: { target: string; fd: number }[] } // a /dev/fuse fd mounted over each file, a regular file as its root (lib/procview/mux.ts); the fds closed after
  | { op: 'cgroupfs'; target: string; v2?: string; v1?: { name: string; dir: string }[]; links?: [string, string][]; readonly: boolean } // /sys/fs/cgroup: see cgroupfsOp
  // OCI mode (lib/oci/mounts.ts):
  | { op: 'remount'; path: string; flags: number }  // MS_REMOUNT|MS_BIND|flags on the mount at path: a bind ignores ro, nosuid, … until remounted
  | { op: 'propagation'; path: string; flags: number } // MS_PRIVATE/SLAVE/SHARED/UNBINDABLE (|MS_REC) of the mount at path ("/" or the root: itself)
  | { op: 'private-parent'; path: string }         // the mount that holds path made private: pivot_root refuses a shared parent, a bind an unbindable one
  | { op: 'sysctl'; key: string; value: string; optional?: boolean; proc?: string };  // written to <proc, /proc>/sys/<key, dots as slashes>, after the pivot; optional: skipped where the kernel has no such entry

/** Docker's defaults (moby oci/defaults.go). */
export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The device nodes every container gets (major, minor), as in the OCI runtime spec's defaults. */
export const DEVICES: [string, number, number][] = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
];

const NOSUID_NODEV_NOEXEC = MS.NOSUID | MS.NODEV | MS.NOEXEC;

/**
 * Docker's sysctls for a container with a network namespace of its own (every box run's):
 * ports below 1024 and ICMP echo sockets without capabilities. The kernel's defaults apply to
 * the host only; a kernel without the entry (before 4.11) is skipped, as Docker checks the version.
 */
export const DEFAULT_SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_unprivileged_port_start': '0',
  'net.ipv4.ping_group_range': '0 2147483647',
};

/** The defaults, then --sysctl (which wins). */
export function sysctls(spec: ContainerSpec): Record<string, string> {
  return { ...DEFAULT_SYSCTLS, ...spec.sysctls };
}

const TMPFS_FLAGS: Record<string, [number, boolean]> = { // [flag, set]
  ro: [MS.RDONLY, true], rw: [MS.RDONLY, false], noexec: [MS.NOEXEC, true], exec: [MS.NOEXEC, false],
  nosuid: [MS.NOSUID, true], suid: [MS.NOSUID, false], nodev: [MS.NODEV, true], dev: [MS.NODEV, false],
};

/**
 * --tmpfs PATH[:OPTIONS]: Docker's defaults noexec,nosuid,nodev, then the user's options in
 * order (exec, suid, dev undo them); the flag words become mount flags, the rest (size=,
 * mode=, uid=, …) tmpfs's data. Without a mode, 1777 (the kernel's default for a tmpfs root).
 */
export function tmpfsMount(options: string): { flags: number; data: string } {
  let flags = MS.NOEXEC | MS.NOSUID | MS.NODEV;
  const data: string[] = [];
  for (const o of options ? options.split(',') : []) {
    const f = TMPFS_FLAGS[o];
    if (f) flags = f[1] ? flags | f[0] : flags & ~f[0];
    else data.push(o);
  }
  if (!data.some((d) => d.startsWith('mode='))) data.push('mode=1777');
  return { flags, data: data.join(',') };
}

/**
 * The container's mounts. `prepared`: the directory where a pooled stage made, while it waited,
 * the kernel filesystems every container gets (preparedPlan below): when this spec needs them
 * exactly as made there, they are bound in (with the mounts below them) instead of made on the run's path.
 */
export function mountPlan(cfg: StageConfig, prepared?: string): MountOp[] {
  const { spec, rootfs } = cfg;
  const root = rootfs.merged;
  const at = (p: string) => path.posix.join(root, p);
  const ready = prepared !== undefined && usesPrepared(spec);
  const ops: MountOp[] = ready ? [] : [{ op: 'private-root' }]; // the preparation made / private first
  if (prepared !== undefined && !ready) ops.push({ op: 'detach', path: prepared });

  if (rootfs.copy) {
    ops.push({ op: 'copy-rootfs', from: rootfs.lower, to: root });
    ops.push({ op: 'mount', source: root, target: root, fstype: null, flags: MS.BIND | MS.REC });
  } else {
    // overlayfs lists lowerdirs top first; the image is never written, writes land in upper.
    const data = `lowerdir=${rootfs.lower.join(':')},upperdir=${rootfs.upper},workdir=${rootfs.work}`;
    ops.push({ op: 'mount', source: 'overlay', target: root, fstype: 'overlay', flags: 0, data });
  }

  if (ready) {
    // a recursive bind, not a move: the copies are new mounts, made after the rootfs, so the
    // container's mountinfo lists "/" first, as a cold run's (mountinfo is in order of creation)
    for (const name of PREPARED_FS) ops.push({ op: 'mount', source: path.posix.join(prepared!, name), target: at(`/${name}`), fstype: null, flags: MS.BIND | MS.REC, mkdir: 'dir' });
  } else {
    ops.push(...kernelFsOps(at, spec.shmSize));
  }
  if (spec.tty) ops.push({ op: 'file', path: at('/dev/console') }); // the pty is bound over it at start
  // after /sys, whether made here or bound in: the container's cgroups are known only now
  const cgroupfs = cgroupfsOp(cfg, at('/sys/fs/cgroup'));
  if (cgroupfs) ops.push(cgroupfs);
  ops.push(...deviceOps(spec, at));
  // Docker's /etc/hostname, /etc/hosts, /etc/resolv.conf: box's files, unless a volume is bound there
  // (Docker's rule); read-only with --read-only, as Docker mounts them.
  for (const name of cfg.etcDir ? ETC_FILES : []) {
    const target = `/etc/${name}`;
    if (spec.volumes.some((v) => v.target === target)) continue;
    ops.push({ op: 'mount', source: path.posix.join(cfg.etcDir!, name), target: at(target), fstype: null, flags: MS.BIND, mkdir: 'file', regular: true });
    if (spec.readOnly) ops.push({ op: 'remount-ro', path: at(target), recursive: false });
  }

  for (const v of spec.volumes) {
    ops.push({ op: 'mount', source: v.source, target: at(v.target), fstype: null, flags: MS.BIND | MS.REC, mkdir: 'dir' });
    if (v.readonly) ops.push({ op: 'remount-ro', path: at(v.target), recursive: true });
  }
  for (const t of spec.tmpfs) {
    const { flags, data } = tmpfsMount(t.options);
    ops.push({ op: 'mount', source: 'tmpfs', target: at(t.target), fstype: 'tmpfs', flags, data, mkdir: 'dir' });
  }

  ops.push({ op: 'pivot', root, noPivot: spec.noPivot });
  // In the container's own namespaces, through its /proc, before /proc/sys is made read-only (as
  // runc). The prepared /proc has the defaults written, its masks and read-only paths already.
  if (!ready) {
    ops.push(...sysctlOps(spec));
    if (!spec.privileged) ops.push(...maskOps((p) => p));
  }
  const view = procViewOp(cfg);
  if (view) ops.push(view);
  // Docker's --read-only: the rootfs mount alone; the mounts box put on it stay as they are.
  if (spec.readOnly) ops.push({ op: 'remount-ro', path: '/', recursive: false });
  return ops;
}

/**
 * The /proc view: after the pivot, so each target is resolved in the container's own /proc
 * and /sys (box's fresh mounts, or the pooled stage's prepared ones), after the masks (none
 * covers these files) and before --read-only (which concerns the rootfs mount only anyway).
 */
export function procViewOp(cfg: StageConfig): MountOp | undefined {
  const v = cfg.procView;
  if (!v?.fds || v.fds.length !== v.files.length || !v.files.length) return undefined;
  return { op: 'procview', files: v.files.map((f, i) => ({ target: f.target, fd: v.fds![i] })) };
}

/** What preparedPlan makes, each bound whole (with the mounts below it) onto the rootfs's own path. */
export const PREPARED_FS = ['proc', 'dev', 'sys'] as const;

/**
 * What a pooled stage prepares is every container's default: a spec that changes any of it
 * (--privileged: no masks or read-only paths; --shm-size; --sysctl; --no-pivot, which would keep
 * the preparation's directory under the old root) has it made on the run's path as before.
 */
export function usesPrepared(spec: ContainerSpec): boolean {
  return !spec.privileged && !spec.shmSize && !spec.noPivot && !Object.keys(spec.sysctls ?? {}).length;
}

/**
 * The kernel filesystems of a container with no options, made under `dir` (a tmpfs of the
 * stage's own) before any container is known: /proc of the stage's pid namespace with Docker's
 * masks and read-only paths, /dev with its nodes, ptys, shm and mqueue, and a read-only /sys of
 * its network namespace; the default sysctls written first. Nothing here comes from an image.
 */
export function preparedPlan(dir: string): MountOp[] {
  const at = (p: string) => path.posix.join(dir, p);
  return [
    ...kernelFsOps(at, undefined),
    ...sysctlOps({ sysctls: {} } as ContainerSpec, at('/proc')),
    ...maskOps(at, at('/dev/null')),
  ];
}

/** /proc, /dev and /sys, as Docker mounts them; `at` places a container path. */
function kernelFsOps(at: (p: string) => string, shmSize: number | undefined): MountOp[] {
  const ops: MountOp[] = [
    { op: 'mount', source: 'proc', target: at('/proc'), fstype: 'proc', flags: NOSUID_NODEV_NOEXEC, mkdir: 'dir' },
    { op: 'mount', source: 'tmpfs', target: at('/dev'), fstype: 'tmpfs', flags: MS.NOSUID | MS.STRICTATIME, data: 'mode=755,size=65536k', mkdir: 'dir' },
  ];
  for (const [name, major, minor] of DEVICES) ops.push({ op: 'mknod', path: at(`/dev/${name}`), major, minor, mode: 0o666 });
  ops.push(
    { op: 'mkdir', path: at('/dev/pts'), mode: 0o755 },
    // newinstance: the container's ptys are its own, numbered from 0, invisible to the host's devpts.
    { op: 'mount', source: 'devpts', target: at('/dev/pts'), fstype: 'devpts', flags: MS.NOSUID | MS.NOEXEC, data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' },
    { op: 'symlink', target: 'pts/ptmx', path: at('/dev/ptmx') },
    { op: 'mount', source: 'shm', target: at('/dev/shm'), fstype: 'tmpfs', flags: NOSUID_NODEV_NOEXEC, data: `mode=1777,size=${shmSize ? Math.ceil(shmSize / 1024) : 65536}k`, mkdir: 'dir' }, // --shm-size, Docker's 64m
    { op: 'mount', source: 'mqueue', target: at('/dev/mqueue'), fstype: 'mqueue', flags: NOSUID_NODEV_NOEXEC, mkdir: 'dir' },
    { op: 'symlink', target: '/proc/self/fd', path: at('/dev/fd') },
    { op: 'symlink', target: '/proc/self/fd/0', path: at('/dev/stdin') },
    { op: 'symlink', target: '/proc/self/fd/1', path: at('/dev/stdout') },
    { op: 'symlink', target: '/proc/self/fd/2', path: at('/dev/stderr') },
    { op: 'mount', source: 'sysfs', target: at('/sys'), fstype: 'sysfs', flags: NOSUID_NODEV_NOEXEC | MS.RDONLY, mkdir: 'dir' },
  );
  return ops;
}

/** The default sysctls and --sysctl, through `proc` (the container's /proc after the pivot). */
function sysctlOps(spec: ContainerSpec, proc?: string): MountOp[] {
  return Object.entries(sysctls(spec)).map(([key, value]) => ({
    op: 'sysctl', key, value, ...(key in DEFAULT_SYSCTLS && spec.sysctls?.[key] === undefined ? { optional: true } : {}), ...(proc ? { proc } : {}),
  }));
}

/** Docker's masked and read-only paths; `nullDev`: the container's own /dev/null to bind over files. */
function maskOps(at: (p: string) => string, nullDev?: string): MountOp[] {
  return [
    ...MASKED_PATHS.map((p): MountOp => ({ op: 'mask', path: at(p), ...(nullDev ? { nullDev } : {}) })),
    ...READONLY_PATHS.map((p): MountOp => ({ op: 'readonly', path: at(p) })),
  ];
}

/**
 * Docker's /sys/fs/cgroup: the container's own cgroups, so that runtimes that size themselves
 * from cgroupfs (the JVM, Go's automaxprocs, Node, .NET) find its limits. Read-only (nosuid,
 * nodev, noexec), read-write with --privileged. v2: the container's cgroup directory bound
 * there; v1: a tmpfs holding one bind per hierarchy (named ones too), named as the host names
 * the hierarchy's mount point ("memory", "cpu,cpuacct", "systemd"), with a symlink for each
 * co-mounted controller (cpu -> cpu,cpuacct), as runc lays it out.
 *
 * Binds of the container's own directories, made here before pivot_root from the host's
 * /sys/fs/cgroup, not fresh cgroup mounts: a cgroup mount shows the tree from the cgroup
 * namespace root of the process that mounts, and this stage joins its cgroups and makes its
 * cgroup namespace only last, just before execve (finish.ts: the set-up runs outside the
 * container's CPU quota and memory limit), and a pooled stage mounts long after it was
 * spawned in no cgroup of the container's. A bind's root is the container's cgroup whatever
 * cgroup the stage is in while it mounts, with or without a cgroup namespace (old kernels),
 * and nothing above that directory is reachable through it: ".." at a mount's root stays
 * there, so neither the host's tree, nor a sibling, nor a parent's cgroup.procs (a way out of
 * its limits) can be named through it. Once the stage has joined and unshared its cgroup
 * namespace, /proc/self/cgroup and mountinfo show these as "/", as a fresh mount inside would.
 * The hybrid host's cgroup2 (/sys/fs/cgroup/unified) is not mounted, as Docker does not.
 * A volume or --tmpfs at /sys/fs/cgroup replaces it (Docker's rule for user mounts).
 */
export function cgroupfsOp(cfg: StageConfig, target: string): MountOp | undefined {
  const { spec } = cfg;
  const dirs = cfg.cgroupfs?.dirs ?? [];
  if (!dirs.length || spec.volumes.some((v) => v.target === '/sys/fs/cgroup') || spec.tmpfs.some((t) => t.target === '/sys/fs/cgroup')) return undefined;
  const readonly = !spec.privileged;
  if (cfg.cgroupfs!.v2) return { op: 'cgroupfs', target, v2: dirs[0], readonly };
  const v1: { name: string; dir: string }[] = [];
  for (const dir of dirs) {
    const name = path.posix.basename(path.posix.dirname(path.posix.dirname(dir))); // <mountpoint>/<parent>/<id>
    if (name && name !== '.' && name !== '..' && !v1.some((h) => h.name === name)) v1.push({ name, dir });
  }
  const links: [string, string][] = [];
  for (const { name } of v1) {
    for (const part of name.includes(',') ? name.split(',') : []) {
      if (part && !v1.some((h) => h.name === part) && !links.some(([l]) => l === part)) links.push([part, name]);
    }
  }
  return { op: 'cgroupfs', target, v1, links, readonly };
}

/** --device: a new node (not a bind of the host's), its parent directories made first. */
function deviceOps(spec: StageConfig['spec'], at: (p: string) => string): MountOp[] {
  const ops: MountOp[] = [];
  for (const d of spec.devices ?? []) {
    const parents: string[] = [];
    for (let p = path.posix.dirname(d.target); p !== '/' && p !== '/dev'; p = path.posix.dirname(p)) parents.unshift(p);
    for (const p of parents) ops.push({ op: 'mkdir', path: at(p), mode: 0o755 });
    ops.push({ op: 'mknod', path: at(d.target), major: d.major, minor: d.minor, mode: d.mode & 0o777, type: d.type, uid: d.uid, gid: d.gid });
  }
  return ops;
}
