// What v1 and v2 do alike: the limits as a plan of writes, carried out by one executor; the
// join plan; moving processes; listing them; removing the directories.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROCS, TASKS } from './files';
import { writeCgroup, writeCgroupAsync, readCgroup } from './write';
import { Resources } from '../options/resources';
import type { ApplyResult, CgroupManager, CgroupStats, Hier } from './manager';

/** One file write of a plan: pure data, so which file gets which value is unit-tested without cgroups. */
export interface CgroupWrite {
  controller: string;  // v1: picks the hierarchy; v2: the file's own prefix
  file: string;
  value: string;
  missing?: string;    // Docker's warning when this host has no such file (the limit is dropped); unset: skipped quietly
  needs?: string;      // written only where this companion file exists too (swap beside memory)
}

const sab = new Int32Array(new SharedArrayBuffer(4));
/** A synchronous sleep (the cgroup calls are synchronous: the kernel finishes exits and freezes meanwhile). */
export function sleepMs(ms: number) {
  Atomics.wait(sab, 0, 0, ms);
}

/** How long kill-all waits for a freeze before it kills what it sees anyway (destroy calls it in its own retry loop). */
export const KILL_FREEZE_MS = 1000;

/**
 * mkdir `dir` once `parents()` has made (and prepared) the levels above it; idempotent.
 * Another box may remove an empty parent between the two (its last container went): then
 * everything again. `tryFirst`: mkdir before parents(), which then runs only if it is ENOENT.
 */
export function mkdirUnder(dir: string, parents: () => void, tryFirst = false) {
  for (let attempt = 0; ; attempt++) {
    try {
      if (!tryFirst || attempt > 0) parents();
      fs.mkdirSync(dir);
      return;
    } catch (e: any) {
      if (e.code === 'EEXIST') return; // made already
      if (e.code !== 'ENOENT' || attempt > 5) throw e;
    }
  }
}

export abstract class BaseCgroup implements CgroupManager {
  abstract readonly mode: 'v1' | 'v2';
  /** The level above the container's directory is not box's (an OCI engine's cgroupsPath): destroy() leaves it. */
  keepParent = false;

  constructor(protected readonly hiers: Hier[]) {}
  get dirs(): string[] { return this.hiers.map((h) => h.dir); }

  abstract create(): void;
  abstract apply(r: Resources, opts: { privileged: boolean }): ApplyResult;
  abstract update(r: Partial<Resources>): ApplyResult;
  abstract stats(): CgroupStats;
  abstract oomKills(): number;
  abstract freeze(timeoutMs?: number): void;
  abstract thaw(): void;
  abstract killAll(): void;

  protected dirOf(controller: string): string | undefined {
    return this.hiers.find((h) => h.controllers.includes(controller))?.dir;
  }

  /** Carry out a plan; a file this host lacks drops its limit with Docker's warning (each warning once). */
  protected execute(plan: CgroupWrite[]): string[] {
    const warnings: string[] = [];
    for (const w of plan) {
      const dir = this.dirOf(w.controller);
      const has = (f: string) => !!dir && fs.existsSync(path.join(dir, f));
      if (w.needs && !has(w.needs)) continue;
      if (!has(w.file)) {
        if (w.missing && !warnings.includes(w.missing)) warnings.push(w.missing);
        continue;
      }
      writeCgroup(path.join(dir!, w.file), w.value);
    }
    return warnings;
  }

  /**
   * Which cgroup.procs the stage may be moved into while it still boots Node (box does it at
   * once, overlapping the ~16 ms RCU grace period of a migration with that start-up) and
   * which it must join at the last moment, because a limit there would bind box's own Node:
   * a CPU quota or cpuset slows its start-up (~80 ms at 20 %), a memory limit below ~40 MB
   * kills it, and v1 pids.max counts its threads.
   *   `ownThread` (v1 only): every hierarchy is joined late, by the stage's main thread writing
   * "0" to `tasks`. That moves the calling thread alone, and the kernel then skips the global
   * threadgroup lock whose write side waits for an RCU grace period (cgroup_procs_write_start:
   * a pid of 0 without threadgroup) — 4–16 ms per join here, against ~30 µs. It is enough for
   * a stage that execs next: execve ends its other threads (Node's, box's code only) before
   * the command runs, so the container's process is wholly in its cgroups from its first
   * instruction, and everything it forks inherits them. v2 has no per-thread move for domain
   * cgroups, and an OCI stage waits for `start` in its cgroups, so both keep cgroup.procs.
   */
  joinPlan(r: Resources, opts: { ownThread?: boolean } = {}): { early: string[]; late: string[] } {
    if (opts.ownThread && this.mode === 'v1') return { early: [], late: this.hiers.map((h) => path.join(h.dir, TASKS)) };
    const binding = new Set<string>();
    if (r.nanoCpus || r.cpuQuota || r.cpuPeriod) binding.add('cpu');
    if (r.cpusetCpus || r.cpusetMems) binding.add('cpuset');
    if (r.memory || r.memoryReservation) binding.add('memory');
    if (r.pidsLimit) binding.add('pids');
    const early: string[] = [], late: string[] = [];
    for (const h of this.hiers) {
      const bound = this.mode === 'v2' ? binding.size > 0 : h.controllers.some((c) => binding.has(c));
      (bound ? late : early).push(path.join(h.dir, PROCS));
    }
    return { early, late };
  }

  enter(pid: number, procs: string[]) {
    for (const p of procs) writeCgroup(p, pid);
  }

  /**
   * enter() on libuv's threads: the first migration waits for an RCU grace period (10–15 ms
   * here), which this process's own thread can spend on other work meanwhile. The threads are
   * in the host's namespaces (never changed), so the pid is read in the host's pid namespace.
   */
  async enterAsync(pid: number, procs: string[]): Promise<void> {
    await Promise.all(procs.map((p) => writeCgroupAsync(p, pid)));
  }

  pids(): number[] {
    const pids = new Set<number>();
    for (const d of this.dirs) for (const l of readCgroup(path.join(d, PROCS)).split('\n')) if (l) pids.add(Number(l));
    return [...pids];
  }

  /** SIGKILL every process listed: the caller has frozen them first, where it can. */
  protected killListed() {
    for (const pid of this.pids()) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }

  destroy(timeoutMs = 3000) {
    const deadline = Date.now() + timeoutMs;
    for (const dir of this.dirs) {
      for (let attempt = 0; ; attempt++) {
        try {
          fs.rmdirSync(dir);
          break;
        } catch (e: any) {
          if (e.code === 'ENOENT') break;
          if (e.code !== 'EBUSY' || Date.now() > deadline) throw new Error(`cannot remove cgroup ${dir}: ${e.code}`);
          removeChildren(dir);
          if (attempt % 5 === 0) this.killAll();
          sleepMs(10);
        }
      }
      // box's own parent goes too once empty, so an idle host shows no trace of box
      if (!this.keepParent) try { fs.rmdirSync(path.dirname(dir)); } catch { /* other containers, or raced */ }
    }
  }
}

/**
 * The cgroups a container made below its own (--privileged mounts /sys/fs/cgroup writable, as
 * Docker does: systemd or a nested runtime inside make some), deepest first, as runc's
 * RemovePath does; one still busy is left for the caller's next attempt. cgroupfs holds no
 * symlinks, and these directories are all the container's, below box's own.
 */
function removeChildren(dir: string) {
  let entries: fs.Dirent[];
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const child = path.join(dir, e.name);
    removeChildren(child);
    try { fs.rmdirSync(child); } catch { /* busy: its processes are still exiting */ }
  }
}
