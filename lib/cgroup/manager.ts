// One interface over cgroup v1 and v2: create, apply and update limits, enter, stats,
// freeze/thaw, kill-all, destroy. Every directory is under box's own absolute parent
// (/box/<id>), never relative to the caller's cgroup, and box writes and removes only
// what it made. A systemd driver would be a third implementation of CgroupManager.
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { discover, CgroupLayout, V1_CONTROLLERS } from './discover';
import { Resources } from '../options/resources';
import { V1Cgroup } from './v1';
import { V2Cgroup } from './v2';

export interface CgroupManager {
  readonly mode: 'v1' | 'v2';
  /** What the container record keeps (state.cgroups): one directory per hierarchy (v2: one). */
  readonly dirs: string[];
  /** Make the directories; idempotent. v2: enables the controllers at every level box owns, every time. */
  create(): void;
  /** The limits at create (and, unless privileged, the device rules). */
  apply(r: Resources, opts: { privileged: boolean }): ApplyResult;
  /** Limits changed on a live container (docker update): the same files, checks and warnings; no device rules. */
  update(r: Partial<Resources>): ApplyResult;
  /**
   * The files the stage joins early (from outside, at once: cgroup.procs) and late (from
   * inside, last: "0" written to each). `ownThread`: a stage that execs right after its late
   * join may move its own thread alone (v1's `tasks`), see base.ts.
   */
  joinPlan(r: Resources, opts?: { ownThread?: boolean }): { early: string[]; late: string[] };
  /** Move a process (all its threads) into cgroup.procs files, from outside it. */
  enter(pid: number, procs: string[]): void;
  /** The same on libuv's threads: this one stays free while the kernel waits (an RCU grace period). */
  enterAsync(pid: number, procs: string[]): Promise<void>;
  stats(): CgroupStats;
  /** The kernel's count of OOM kills in this cgroup (stats().oomKills alone: one file, read at every container's exit). */
  oomKills(): number;
  pids(): number[];
  /** Returns once the kernel reports the cgroup frozen; throws after timeoutMs. */
  freeze(timeoutMs?: number): void;
  thaw(): void;
  /** SIGKILL everything in the container's cgroups, so that nothing can fork past it. */
  killAll(): void;
  /** rmdir, retrying (and killing) while the kernel finishes exits (EBUSY); then box's parent if empty. */
  destroy(timeoutMs?: number): void;
}

export interface ApplyResult {
  /** Docker's warnings for limits this host cannot apply (the limit is dropped, as Docker does). */
  warnings: string[];
  /** Why the v2 device program was not attached: the caller must drop CAP_MKNOD. */
  mknodDropped?: string;
}

export interface CgroupStats {
  cpuNs: number;        // NaN: no CPU accounting
  memory: number;       // bytes; NaN: no memory controller
  memoryLimit: number;  // bytes; Infinity: unlimited
  pids: number;         // NaN: no pids controller
  oomKills: number;
}

/** One v1 hierarchy's directory for this container, with the controllers it carries. */
export interface Hier { controllers: string[]; dir: string }

/** box's parent cgroup: "box" for the default state root; a separate one per BOX_ROOT, so one store never collects another's cgroups. */
export function parentName(boxRoot: string | undefined): string {
  return boxRoot ? `box-${crypto.createHash('sha256').update(boxRoot).digest('hex').slice(0, 8)}` : 'box';
}

export const PARENT = parentName(process.env.BOX_ROOT);

/** The cgroups a container with this id has (or will have, after create()) on this host. */
export function cgroupManager(id: string, layout: CgroupLayout = discover(), parent = PARENT): CgroupManager {
  return cgroupManagerAt(`/${parent}/${id}`, layout);
}

/**
 * The cgroups at an absolute path below each hierarchy's root, as an OCI config's
 * `cgroupsPath` names them (/docker/<id>, /machine.slice/libpod-<id>). The path is the
 * engine's choice: it must stay below the root (no `..`), and the levels above the
 * container's own directory are the engine's, so destroy() leaves them (`keepParent`).
 */
export function cgroupManagerAt(cgroupPath: string, layout: CgroupLayout = discover(), opts: { keepParent?: boolean } = {}): CgroupManager {
  const rel = cgroupPath.split('/').filter(Boolean);
  if (!rel.length || rel.some((c) => c === '.' || c === '..')) throw new Error(`cgroup path "${cgroupPath}": must name a directory below the cgroup root, without . or ..`);
  const m = layout.mode === 'v2'
    ? new V2Cgroup(path.join(layout.v2!.mountpoint, ...rel), layout.v2!.mountpoint)
    : new V1Cgroup(layout.v1.map((h) => ({ controllers: h.controllers, dir: path.join(h.mountpoint, ...rel) })));
  m.keepParent = !!opts.keepParent;
  return m;
}

/** The manager for directories a record kept (or leak collection found), whatever box made them. */
export function managerForDirs(dirs: string[], layout: CgroupLayout = discover()): CgroupManager {
  const mount = (d: string) => path.dirname(path.dirname(d)); // <mountpoint>/<parent>/<id>
  if (!dirs.length) return new V1Cgroup([]); // the record was saved before its cgroups were made: nothing to do
  if (dirs.length === 1 && layout.v2 && mount(dirs[0]) === layout.v2.mountpoint) return new V2Cgroup(dirs[0], layout.v2.mountpoint);
  return new V1Cgroup(dirs.map((dir) => ({
    dir,
    // an unknown mountpoint (the host's mounts changed): its name lists its controllers, as cgroupfs names them
    controllers: layout.v1.find((h) => h.mountpoint === mount(dir))?.controllers ?? path.basename(mount(dir)).split(',').filter((c) => V1_CONTROLLERS.includes(c)),
  })));
}

/** box's parent directory in every hierarchy it uses: where leak collection looks for orphans. */
export function parentDirs(layout: CgroupLayout = discover(), parent = PARENT): string[] {
  return cgroupManager('x', layout, parent).dirs.map(path.dirname);
}

export { sleepMs } from './base';
