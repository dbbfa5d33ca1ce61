// One small interface over cgroup v1 and v2: create, enter (the stage writes cgroup.procs
// itself), kill-all, destroy. Every directory is under box's own absolute parent
// (/box/<id>), never relative to the caller's cgroup, and box removes only what it made.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { discover, CgroupLayout } from './discover';
import { ROOT } from '../state/paths';

/** /box for the default state root; a separate parent per BOX_ROOT, so one store never collects another's cgroups. */
export const PARENT = process.env.BOX_ROOT ? `box-${crypto.createHash('sha256').update(ROOT).digest('hex').slice(0, 8)}` : 'box';
export const FILES = {
  procs: 'cgroup.procs',
  kill: 'cgroup.kill',            // v2, kernel ≥ 5.14
  freeze: 'freezer.state',        // v1 freezer
  subtree: 'cgroup.subtree_control',
  cpusetCpus: 'cpuset.cpus',
  cpusetMems: 'cpuset.mems',
} as const;

export interface Cgroups { dirs: string[]; procs: string[] }

/**
 * Which of the container's cgroups the stage may join while it is still booting Node
 * (box moves it there at once, overlapping the ~16 ms RCU grace period of a cgroup
 * migration with the stage's start-up) and which it must join at the last moment,
 * because a limit there would bind box's own Node (a CPU quota slows its start-up by
 * ~80 ms, a memory limit below ~40 MB kills it, pids.max counts its threads).
 */
export function splitJoin(procs: string[], limited: (file: string) => boolean): { early: string[]; late: string[] } {
  const early = procs.filter((p) => !limited(p));
  return { early, late: procs.filter((p) => limited(p)) };
}

/** Move a process (all its threads) into cgroups, as a process outside it (box does this for its stage). */
export function enter(pid: number, procs: string[]) {
  for (const p of procs) fs.writeFileSync(p, String(pid));
}

/** The directories a container with this id has (or would have) on this host. */
export function cgroupDirs(id: string, layout: CgroupLayout = discover()): string[] {
  if (layout.mode === 'v2') return [path.join(layout.v2!.mountpoint, PARENT, id)];
  return layout.v1.map((h) => path.join(h.mountpoint, PARENT, id));
}

export function createCgroups(id: string, layout: CgroupLayout = discover()): Cgroups {
  const dirs = cgroupDirs(id, layout);
  for (const dir of dirs) {
    const parent = path.dirname(dir);
    for (let attempt = 0; ; attempt++) {
      try {
        if (!fs.existsSync(parent)) {
          fs.mkdirSync(parent, { recursive: true });
          if (layout.mode === 'v2') enableControllers(parent);
        }
        inheritCpuset(parent);
        fs.mkdirSync(dir);
        break;
      } catch (e: any) {
        // another box removed the empty parent between our mkdirs: make it again
        if (e.code !== 'ENOENT' || attempt > 5) throw e;
      }
    }
    inheritCpuset(dir);
  }
  return { dirs, procs: dirs.map((d) => path.join(d, FILES.procs)) };
}

/** v2: let /box's children use every controller /box has (writes only box's own file). */
function enableControllers(dir: string) {
  try {
    const ctl = fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
    if (ctl.length) fs.writeFileSync(path.join(dir, FILES.subtree), ctl.map((c) => '+' + c).join(' '));
  } catch { /* controllers held by processes in the root: limits will warn */ }
}

/** v1 cpuset starts empty in a new cgroup, and a task cannot join an empty cpuset. */
function inheritCpuset(dir: string) {
  for (const f of [FILES.cpusetCpus, FILES.cpusetMems]) {
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
      for (const l of fs.readFileSync(path.join(d, FILES.procs), 'utf8').split('\n')) if (l) pids.add(Number(l));
    } catch { /* gone */ }
  }
  return [...pids];
}

/** SIGKILL everything still in the container's cgroups (v2: cgroup.kill; v1: freeze, kill, thaw). */
export function killAll(dirs: string[]) {
  for (const d of dirs) {
    const killFile = path.join(d, FILES.kill);
    if (fs.existsSync(killFile)) { try { fs.writeFileSync(killFile, '1'); } catch { /* gone */ } }
  }
  const freezer = dirs.find((d) => fs.existsSync(path.join(d, FILES.freeze)));
  if (freezer) try { fs.writeFileSync(path.join(freezer, FILES.freeze), 'FROZEN'); } catch { /* ignore */ }
  for (const pid of pidsOf(dirs)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  if (freezer) try { fs.writeFileSync(path.join(freezer, FILES.freeze), 'THAWED'); } catch { /* ignore */ }
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
