// Every file procview serves, computed for one caller at the moment of the read: the caller's
// cgroup files are read (caller.ts) and handed to the pure view functions beside this file.
// A caller whose cgroup cannot be read (gone, not in the hierarchy) gets the host's file, as
// it would without procview; so does a file the cgroup sets no limit for.
import * as path from 'node:path';
import type { FileKind } from './tree';
import { Caller, callerOf, readOr, containerStartTicks, tasksOf, taskStates } from './caller';
import { parseKv, parseLimit, parseCpuList } from './parse';
import { meminfo, swapOf, MemInput } from './meminfo';
import { visibleCpus, parseQuota, cpuOnline, cpuinfo } from './cpus';
import { stat, parseUsageAll, CpuUsage } from './stat';
import { uptime } from './uptime';
import { Load, nextLoad, loadavg } from './loadavg';
import { swaps } from './swaps';
import { diskstats, parseIoStat, parseBlkio, Io } from './diskstats';
import { parseMeminfo } from './parse';

export const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x64 and arm64

const host = (file: string) => readOr(file) ?? '';

/** The smallest of a limit file from `dir` up to `root` (v2 has no hierarchical_memory_limit). */
function minUp(dir: string, root: string, file: string): number | undefined {
  let min: number | undefined;
  for (let d = dir, i = 0; d.startsWith(root) && d !== root && i < 64; d = path.dirname(d), i++) {
    const v = parseLimit(readOr(path.join(d, file)));
    if (v !== undefined && (min === undefined || v < min)) min = v;
  }
  return min;
}

const min = (...xs: (number | undefined)[]) => xs.reduce<number | undefined>((a, b) => (b === undefined ? a : a === undefined ? b : Math.min(a, b)), undefined);

export function memInput(c: Caller): MemInput | undefined {
  const d = c.dirs.get('memory');
  if (!d) return undefined;
  const f = (name: string) => readOr(path.join(d, name));
  const stat = parseKv(f('memory.stat') ?? '');
  if (c.v2) {
    return {
      v2: true, stat, usage: Number(f('memory.current') ?? 0),
      limit: minUp(d, c.root!, 'memory.max'),
      get swapLimit() { return minUp(d, c.root!, 'memory.swap.max'); },
      get swapUsage() { return parseLimit(f('memory.swap.current')); },
    };
  }
  // hierarchical_* are the smallest limits from the root down, the cgroup's own included: no
  // need to read memory.limit_in_bytes / memsw.limit_in_bytes (each read is a syscall's cost).
  return {
    v2: false, stat, usage: Number(f('memory.usage_in_bytes') ?? 0),
    limit: stat.get('hierarchical_memory_limit'),
    swapLimit: stat.get('hierarchical_memsw_limit'),
    get swapUsage() { return parseLimit(f('memory.memsw.usage_in_bytes')); }, // read only when the host has swap to show
  };
}

function visible(c: Caller): number[] {
  const online = parseCpuList(host('/sys/devices/system/cpu/online'));
  const set = c.dirs.get('cpuset'), cpu = c.dirs.get('cpu');
  const cpuset = set ? readOr(path.join(set, c.v2 ? 'cpuset.cpus.effective' : 'cpuset.effective_cpus')) : undefined;
  const q = !cpu ? {} : c.v2 ? parseQuota(true, readOr(path.join(cpu, 'cpu.max'))) : parseQuota(false, readOr(path.join(cpu, 'cpu.cfs_quota_us')), readOr(path.join(cpu, 'cpu.cfs_period_us')));
  return visibleCpus(online, cpuset ? parseCpuList(cpuset) : undefined, q.quota, q.period);
}

function cpuUsage(c: Caller): CpuUsage {
  if (c.v2) {
    const s = parseKv(readOr(path.join(c.dirs.get('cpu') ?? '', 'cpu.stat')) ?? '');
    return { user: (s.get('user_usec') ?? 0) * 1000, system: (s.get('system_usec') ?? 0) * 1000 };
  }
  const acct = c.dirs.get('cpuacct');
  const perCpu = parseUsageAll(acct ? readOr(path.join(acct, 'cpuacct.usage_all')) ?? '' : '');
  let user = 0, system = 0;
  for (const u of perCpu.values()) { user += u.user; system += u.system; }
  return { perCpu, user, system };
}

/** Where the container's tasks are listed: the first of these hierarchies it has its own cgroup in (not a hierarchy's root, which holds the whole host). */
function taskDir(c: Caller): string | undefined {
  return ['pids', 'cpu', 'memory', 'cpuacct'].map((k) => c.dirs.get(k)).find((d) => d !== undefined && !c.roots.has(d));
}

function io(c: Caller): Map<string, Io> {
  if (c.v2) return parseIoStat(readOr(path.join(c.dirs.get('io') ?? '', 'io.stat')) ?? '');
  const d = c.dirs.get('blkio');
  if (!d) return new Map();
  const f = (name: string) => readOr(path.join(d, name)) ?? '';
  const m = parseBlkio(f('blkio.throttle.io_serviced_recursive'), f('blkio.throttle.io_service_bytes_recursive'));
  return m.size ? m : parseBlkio(f('blkio.io_serviced_recursive'), f('blkio.io_service_bytes_recursive'));
}

/** Load averages per cgroup directory, between reads; bounded so that many cgroups cannot grow it without end. */
const loads = new Map<string, Load>();
const MAX_LOADS = 4096;

/**
 * The container's tasks now and its load averages folded with this sample (one table for
 * /proc/loadavg and sysinfo's loads, so both show the same figures); undefined when the caller
 * has no cgroup of its own to count in.
 */
export function containerLoad(c: Caller, now: number): { load: Load; running: number; tasks: number; lastPid: number } | undefined {
  const d = taskDir(c);
  if (!d) return undefined;
  const tids = tasksOf(d, c.v2);
  const s = taskStates(tids);
  const l = nextLoad(loads.get(d), s.running, now);
  loads.delete(d);
  if (loads.size >= MAX_LOADS) loads.delete(loads.keys().next().value!); // the least recently read
  loads.set(d, l);
  return { load: l, running: s.running, tasks: tids.length, lastPid: s.lastPid };
}

const HOST_FILES: Record<FileKind, string> = { meminfo: '/proc/meminfo', cpuinfo: '/proc/cpuinfo', stat: '/proc/stat', uptime: '/proc/uptime', loadavg: '/proc/loadavg', swaps: '/proc/swaps', diskstats: '/proc/diskstats', 'cpu-online': '/sys/devices/system/cpu/online' };

/** The host's own file: what a container reads without procview, and what it gets when its view cannot be computed. */
export const hostView = (kind: FileKind): string => host(HOST_FILES[kind]);

/** The text of `kind` for the process `pid` (the request's caller). */
export function render(kind: FileKind, pid: number, now = Date.now() / 1000): string {
  const hostFile = HOST_FILES[kind];
  const c = callerOf(pid);
  if (!c || c.atRoot) return host(hostFile);
  switch (kind) {
    case 'meminfo': { const m = memInput(c); return m ? meminfo(host(hostFile), m) : host(hostFile); }
    case 'swaps': {
      const m = memInput(c);
      const h = parseMeminfo(host('/proc/meminfo'));
      const limitKb = m?.limit !== undefined ? Math.floor(m.limit / 1024) : undefined;
      return swaps(host(hostFile), m && limitKb !== undefined && limitKb < (h.get('MemTotal') ?? 0) ? swapOf(m, h.get('SwapTotal') ?? 0, limitKb) : undefined);
    }
    case 'cpuinfo': return cpuinfo(host(hostFile), visible(c));
    case 'cpu-online': return cpuOnline(visible(c).length);
    case 'stat': {
      const d = taskDir(c);
      return stat(host(hostFile), visible(c), cpuUsage(c), d ? taskStates(tasksOf(d, c.v2)).running : undefined);
    }
    case 'uptime': {
      const u = cpuUsage(c), text = host(hostFile);
      return uptime(text, containerStartTicks(pid, c, CLK_TCK, Number(text.trim().split(/\s+/)[0])), CLK_TCK, u.user + u.system, visible(c).length);
    }
    case 'loadavg': {
      const t = containerLoad(c, now);
      return t ? loadavg(t.load, t.running, t.tasks, t.lastPid) : host(hostFile);
    }
    case 'diskstats': return diskstats(host(hostFile), io(c));
  }
}
