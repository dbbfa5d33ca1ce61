// One small interface over cgroup v1 and v2: create, apply resources, enter, stats,
// kill-all, destroy. Every directory is under box's own absolute parent (/box/<id>),
// never relative to the caller's cgroup, and box removes only what it made.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { discover, CgroupLayout } from './discover';
import { ROOT } from '../state/paths';
import { PROCS, V1, V2 } from './files';
import { Resources } from '../options/resources';
import { applyV1, statsV1, Hier } from './v1';
import { applyV2, statsV2 } from './v2';

/** /box for the default state root; a separate parent per BOX_ROOT, so one store never collects another's cgroups. */
export const PARENT = process.env.BOX_ROOT ? `box-${crypto.createHash('sha256').update(ROOT).digest('hex').slice(0, 8)}` : 'box';

export interface Cgroup {
  mode: 'v1' | 'v2';
  hiers: Hier[];   // v1: one per hierarchy; v2: one entry with the enabled controllers
  dirs: string[];
}

/** The cgroup a container with this id has (or would have) on this host. */
export function cgroupFor(id: string, layout: CgroupLayout = discover()): Cgroup {
  if (layout.mode === 'v2') {
    return { mode: 'v2', hiers: [{ controllers: layout.v2!.controllers, dir: path.join(layout.v2!.mountpoint, PARENT, id) }], dirs: [path.join(layout.v2!.mountpoint, PARENT, id)] };
  }
  const hiers = layout.v1.map((h) => ({ controllers: h.controllers, dir: path.join(h.mountpoint, PARENT, id) }));
  return { mode: 'v1', hiers, dirs: hiers.map((h) => h.dir) };
}

export function cgroupDirs(id: string, layout: CgroupLayout = discover()): string[] {
  return cgroupFor(id, layout).dirs;
}

export function createCgroups(id: string, layout: CgroupLayout = discover()): Cgroup {
  const cg = cgroupFor(id, layout);
  for (const dir of cg.dirs) {
    const parent = path.dirname(dir);
    for (let attempt = 0; ; attempt++) {
      try {
        if (!fs.existsSync(parent)) {
          fs.mkdirSync(parent, { recursive: true });
          if (cg.mode === 'v2') enableControllers(parent);
        }
        if (cg.mode === 'v1') inheritCpuset(parent);
        fs.mkdirSync(dir);
        break;
      } catch (e: any) {
        // another box removed the empty parent between our mkdirs: make it again
        if (e.code !== 'ENOENT' || attempt > 5) throw e;
      }
    }
    if (cg.mode === 'v1') inheritCpuset(dir); // v2: an empty cpuset.cpus means "the parent's"
  }
  if (cg.mode === 'v2') {
    try { cg.hiers[0].controllers = fs.readFileSync(path.join(cg.dirs[0], V2.controllers), 'utf8').trim().split(/\s+/).filter(Boolean); } catch { /* none */ }
  }
  return cg;
}

/** Write the container's limits; returns warnings for limits this host cannot apply (dropped, as Docker does). */
export function applyResources(cg: Cgroup, r: Resources, opts: { privileged: boolean }): string[] {
  return cg.mode === 'v2' ? applyV2(cg.dirs[0], r, opts) : applyV1(cg.hiers, r, opts);
}

export function cgroupStats(cg: Cgroup) {
  return cg.mode === 'v2' ? statsV2(cg.dirs[0]) : statsV1(cg.hiers);
}

/**
 * Which cgroup.procs the stage may be moved into while it still boots Node (box does it at
 * once, overlapping the ~16 ms RCU grace period of a migration with that start-up) and
 * which it must join at the last moment, because a limit there would bind box's own Node:
 * a CPU quota or cpuset slows its start-up (~80 ms at 20 %), a memory limit below ~40 MB
 * kills it, and v1 pids.max counts its threads.
 */
export function joinPlan(cg: Cgroup, r: Resources): { early: string[]; late: string[] } {
  const binding = new Set<string>();
  if (r.nanoCpus || r.cpuQuota || r.cpuPeriod) binding.add('cpu');
  if (r.cpusetCpus || r.cpusetMems) binding.add('cpuset');
  if (r.memory || r.memoryReservation) binding.add('memory');
  if (r.pidsLimit) binding.add('pids');
  const early: string[] = [], late: string[] = [];
  for (const h of cg.hiers) {
    const bound = cg.mode === 'v2' ? binding.size > 0 : h.controllers.some((c) => binding.has(c));
    (bound ? late : early).push(path.join(h.dir, PROCS));
  }
  return { early, late };
}

/** Move a process (all its threads) into cgroups, from outside it (box does this for its stage). */
export function enter(pid: number, procs: string[]) {
  for (const p of procs) fs.writeFileSync(p, String(pid));
}

/** v2: let /box's children use every controller /box has (writes only box's own file). */
function enableControllers(dir: string) {
  try {
    const ctl = fs.readFileSync(path.join(dir, V2.controllers), 'utf8').trim().split(/\s+/).filter(Boolean);
    if (ctl.length) fs.writeFileSync(path.join(dir, V2.subtree), ctl.map((c) => '+' + c).join(' '));
  } catch { /* controllers held by processes in the root: limits will warn */ }
}

/** v1 cpuset starts empty in a new cgroup, and a task cannot join an empty cpuset (v2 inherits instead). */
function inheritCpuset(dir: string) {
  for (const f of [V1.cpuset.cpus, V1.cpuset.mems]) {
    const file = path.join(dir, f);
    if (!fs.existsSync(file)) continue;
    if (fs.readFileSync(file, 'utf8').trim()) continue;
    fs.writeFileSync(file, fs.readFileSync(path.join(path.dirname(dir), f), 'utf8').trim());
  }
}

export function pidsOf(dirs: string[]): number[] {
  const pids = new Set<number>();
  for (const d of dirs) {
    try {
      for (const l of fs.readFileSync(path.join(d, PROCS), 'utf8').split('\n')) if (l) pids.add(Number(l));
    } catch { /* gone */ }
  }
  return [...pids];
}

/** SIGKILL everything still in the container's cgroups (v2: cgroup.kill; v1: freeze, kill, thaw). */
export function killAll(dirs: string[]) {
  for (const d of dirs) {
    const killFile = path.join(d, V2.kill);
    if (fs.existsSync(killFile)) { try { fs.writeFileSync(killFile, '1'); } catch { /* gone */ } }
  }
  // Frozen, nothing can fork between reading cgroup.procs and the kill.
  const freezer = dirs.find((d) => fs.existsSync(path.join(d, V1.freezer.state)));
  const freeze = (s: string) => { if (freezer) try { fs.writeFileSync(path.join(freezer, V1.freezer.state), s); } catch { /* gone */ } };
  freeze('FROZEN');
  for (const pid of pidsOf(dirs)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  freeze('THAWED');
}

/** Remove the container's cgroups: kill what is left, then rmdir, retrying while the kernel finishes exits (EBUSY). */
export function destroyCgroups(dirs: string[], timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (const dir of dirs) {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.rmdirSync(dir);
        break;
      } catch (e: any) {
        if (e.code === 'ENOENT') break;
        if (e.code !== 'EBUSY' || Date.now() > deadline) throw new Error(`cannot remove cgroup ${dir}: ${e.code}`);
        if (attempt % 5 === 0) killAll([dir]);
        sleepMs(10);
      }
    }
    // box's own parent goes too once empty, so an idle host shows no trace of box
    try { fs.rmdirSync(path.dirname(dir)); } catch { /* other containers, or raced */ }
  }
}

const sab = new Int32Array(new SharedArrayBuffer(4));
export function sleepMs(ms: number) {
  Atomics.wait(sab, 0, 0, ms);
}
