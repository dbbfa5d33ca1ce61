// Who is asking: the cgroup directories of the process that made a FUSE request, found as
// lxcfs does from the pid the kernel put in the request header (a pid of the server's own pid
// namespace, the host's). Everything here reads kernel-made files (/proc/<pid>/…, cgroupfs)
// and treats their contents as untrusted all the same: a cgroup path is joined under a
// hierarchy's mountpoint only when it cannot leave it. A pid may be gone, or reused by the
// time we look (the answer is then another cgroup's figures — numbers, never files).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { discover, CgroupLayout } from '../cgroup/discover';
import { parseStat } from '../util/proc';

export interface Caller {
  pid: number;
  v2: boolean;
  /** controller → absolute cgroup directory (v1: per hierarchy; v2: every controller → the one directory). */
  dirs: Map<string, string>;
  /** v2: the hierarchy's mountpoint (limits are looked up from the directory up to here). */
  root?: string;
  /** In the root cgroup of every hierarchy: a host process, shown the host's files. */
  atRoot: boolean;
  /** The directories above that are a hierarchy's root (no limits live there). */
  roots: Set<string>;
}

const scratch = Buffer.alloc(256 * 1024);

/**
 * A kernel-made text file (/proc, cgroupfs), or undefined when it cannot be read. open, read
 * until EOF, close — no fstat (readFileSync's extra syscall, which costs here as much as the
 * read): each procview answer reads several such files, and syscalls are its whole cost.
 * At most 256 KiB (a /proc/cpuinfo of ~200 CPUs); anything longer is cut.
 */
export function readOr(file: string): string | undefined {
  let fd: number;
  try { fd = fs.openSync(file, 'r'); } catch { return undefined; }
  try {
    let n = 0;
    for (let r = 1; r > 0 && n < scratch.length; n += r) r = fs.readSync(fd, scratch, n, scratch.length - n, null);
    return scratch.toString('latin1', 0, n);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** `rel` (a path from /proc/<pid>/cgroup) under `mount`, or undefined when it is not a plain absolute cgroup path. */
export function cgroupDir(mount: string, rel: string): string | undefined {
  if (!rel.startsWith('/') || rel.includes('\0') || rel.split('/').some((p) => p === '..' || p === '.')) return undefined;
  const dir = path.join(mount, rel).replace(/\/+$/, '');
  return dir === mount || dir.startsWith(`${mount}/`) ? dir : undefined;
}

/** Parse /proc/<pid>/cgroup against the host's hierarchies (controllers matched as sets, DESIGN.md §3). */
export function callerDirs(text: string, layout: CgroupLayout): Omit<Caller, 'pid'> {
  const dirs = new Map<string, string>();
  const v2 = layout.mode === 'v2';
  let atRoot = true;
  const roots = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[3] !== '/' && (v2 || m[1] !== '0')) atRoot = false;
    if (m[1] === '0' && m[2] === '') {
      if (v2 && layout.v2) {
        const dir = cgroupDir(layout.v2.mountpoint, m[3]);
        if (dir) for (const c of ['memory', 'cpu', 'cpuset', 'io', 'pids']) dirs.set(c, dir);
        if (dir === layout.v2.mountpoint) roots.add(dir);
      }
      continue;
    }
    const set = m[2].split(',').sort().join();
    const h = layout.v1.find((x) => [...x.controllers].sort().join() === set);
    const dir = h && cgroupDir(h.mountpoint, m[3]);
    if (dir) for (const c of h!.controllers) dirs.set(c, dir);
    if (dir && dir === h!.mountpoint) roots.add(dir);
  }
  return { v2, dirs, root: v2 ? layout.v2?.mountpoint : undefined, atRoot, roots };
}

export function callerOf(pid: number): Caller | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const text = readOr(`/proc/${pid}/cgroup`);
  return text === undefined ? undefined : { pid, ...callerDirs(text, discover()) };
}

/** NSpid (innermost last) and PPid from /proc/<pid>/status. */
function nsPid(pid: number): { ns: number[]; ppid: number } | undefined {
  const s = readOr(`/proc/${pid}/status`);
  if (!s) return undefined;
  const ns = /^NSpid:\s*(.*)$/m.exec(s)?.[1].trim().split(/\s+/).map(Number) ?? [];
  return { ns, ppid: Number(/^PPid:\s*(\d+)/m.exec(s)?.[1] ?? 0) };
}

/**
 * Start time (clock ticks since boot) of the init of the caller's pid namespace: up the
 * parent chain until the process that is pid 1 in its innermost namespace (an orphan inside
 * is reparented to that init, so the chain stays inside until it). Undefined for a caller in
 * the host's pid namespace (its uptime is the host's) or when the chain breaks.
 */
export function initStartTicks(pid: number): number | undefined {
  let p = pid, depth = 0;
  for (let i = 0; i < 64 && p > 0; i++) {
    const s = nsPid(p);
    if (!s || s.ns.length < 2) return depth ? initInCgroup(pid, depth) : undefined;
    depth ||= s.ns.length;
    // the chain left the caller's namespace: a process born in it by setns from outside
    // (`box exec`, nsenter), whose parent stayed out
    if (s.ns.length < depth) return initInCgroup(pid, depth);
    if (s.ns[s.ns.length - 1] === 1) return startTicks(p);
    p = s.ppid;
  }
  return undefined;
}

/**
 * When the container started, in clock ticks since boot: its init's start, or the creation of
 * its cgroup directory if that is later — a pooled stage is its container's PID 1, and it was
 * started (and waited in the pool) before its container and cgroup existed. The directory's
 * ctime is its creation: box makes nothing in it afterwards (kernfs changes a directory's
 * times only when entries come or go). Undefined when the init cannot be found.
 */
export function containerStartTicks(pid: number, c: Caller, clkTck: number, hostUptimeS: number): number | undefined {
  const init = initStartTicks(pid);
  if (init === undefined) return undefined;
  const dir = c.atRoot ? undefined : c.dirs.values().next().value;
  let made: number | undefined;
  try { if (dir) made = (hostUptimeS - (Date.now() - fs.statSync(dir).ctimeMs) / 1000) * clkTck; } catch { /* gone */ }
  return made !== undefined && Number.isFinite(made) && made > init ? made : init;
}

const startTicks = (p: number): number | undefined => {
  const t = Number(parseStat(readOr(`/proc/${p}/stat`) ?? '')?.starttime);
  return Number.isFinite(t) ? t : undefined;
};

/**
 * The init of `pid`'s pid namespace looked up among the processes of `pid`'s own cgroup (exec
 * joins the container's; its PID 1 is there unless it moved itself): the one that is pid 1 at
 * the same depth in the very same namespace. At most MAX_TASKS looked at; undefined when absent.
 */
function initInCgroup(pid: number, depth: number): number | undefined {
  const dir = callerOf(pid)?.dirs.values().next().value;
  let ns: string;
  try { ns = fs.readlinkSync(`/proc/${pid}/ns/pid`); } catch { return undefined; }
  const procs = dir && readOr(path.join(dir, 'cgroup.procs'));
  for (const p of (procs ?? '').split('\n').slice(0, MAX_TASKS).map(Number)) {
    if (!(p > 0)) continue;
    const s = nsPid(p);
    if (s?.ns.length !== depth || s.ns[depth - 1] !== 1) continue;
    try { if (fs.readlinkSync(`/proc/${p}/ns/pid`) !== ns) continue; } catch { continue; }
    return startTicks(p);
  }
  return undefined;
}

/** Bounds on the work one read may cost: a container with 100k threads must not stall the server. */
export const MAX_TASKS = 4096, MAX_CGROUPS = 256;

/** Tasks (thread ids) of a cgroup and its descendants: v1 `tasks`, v2 `cgroup.threads`; at most MAX_TASKS. */
export function tasksOf(dir: string, v2: boolean): number[] {
  const out: number[] = [];
  const queue = [dir];
  for (let seen = 0; queue.length && seen < MAX_CGROUPS && out.length < MAX_TASKS; seen++) {
    const d = queue.shift()!;
    for (const t of (readOr(path.join(d, v2 ? 'cgroup.threads' : 'tasks')) ?? '').split('\n')) {
      if (/^\d+$/.test(t) && out.length < MAX_TASKS) out.push(Number(t));
    }
    try {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) queue.push(path.join(d, e.name));
    } catch { /* gone */ }
  }
  return out;
}

/** Runnable (R) and uninterruptible (D) counts of these tasks, and the newest task's pid as its own namespace numbers it. */
export function taskStates(tids: number[]): { running: number; blocked: number; lastPid: number } {
  let running = 0, blocked = 0;
  for (const t of tids) {
    const state = parseStat(readOr(`/proc/${t}/stat`) ?? '')?.state;
    if (state === 'R') running++;
    else if (state === 'D') blocked++;
  }
  const newest = tids.length ? Math.max(...tids) : 0;
  const ns = newest ? nsPid(newest)?.ns : undefined;
  return { running, blocked, lastPid: ns?.[ns.length - 1] ?? 0 };
}
