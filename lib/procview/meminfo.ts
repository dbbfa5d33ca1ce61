// /proc/meminfo as the container's memory cgroup sees it (lxcfs's proc_meminfo_read, the
// same formulas): MemTotal is the smallest limit on the cgroup's path from the root, MemFree
// what is left of it, MemAvailable adds back what the kernel could reclaim (file pages,
// reclaimable slab), the LRU/shmem lines come from memory.stat. Lines the cgroup has no
// figure for keep the host's. No limit (or one above the host's RAM): the host's file as is.
import { parseMeminfo } from './parse';

export interface MemInput {
  v2: boolean;
  /** Bytes: the smallest memory limit from the root down (v1: memory.stat hierarchical_memory_limit; v2: memory.max of each level). */
  limit?: number;
  /** Bytes charged now (v1 memory.usage_in_bytes, v2 memory.current). */
  usage: number;
  /** memory.stat (v1's total_* keys, v2's keys). */
  stat: Map<string, number>;
  /** v1: memory.stat hierarchical_memsw_limit (memory + swap); v2: memory.swap.max (swap alone). Undefined: none, or no swap accounting. */
  swapLimit?: number;
  /** v1: memory.memsw.usage_in_bytes; v2: memory.swap.current. */
  swapUsage?: number;
}

const V2_NAMES: Record<string, string> = { cache: 'file', mapped_file: 'file_mapped', dirty: 'file_dirty', writeback: 'file_writeback', rss_huge: 'anon_thp' };

/** A memory.stat figure in bytes under v1's name (total_*, the hierarchical one) or v2's. */
export function statValue(m: MemInput, v1name: string): number {
  return (m.v2 ? m.stat.get(V2_NAMES[v1name] ?? v1name) : m.stat.get(`total_${v1name}`) ?? m.stat.get(v1name)) ?? 0;
}

/** The container's swap in kB: total (bounded by the host's swap) and used. Shared with /proc/swaps. */
export function swapOf(m: MemInput, hostTotalKb: number, limitKb: number): { total: number; used: number } {
  if (hostTotalKb === 0) return { total: 0, used: 0 }; // no swap on the host: the swap files are not even read (views.ts's getters)
  let total = hostTotalKb, used: number;
  if (m.v2) {
    if (m.swapLimit !== undefined) total = Math.min(total, Math.floor(m.swapLimit / 1024));
    used = Math.floor((m.swapUsage ?? 0) / 1024);
  } else {
    if (m.swapLimit !== undefined && m.swapLimit / 1024 < limitKb + hostTotalKb) total = Math.max(0, Math.floor(m.swapLimit / 1024) - limitKb);
    used = m.swapUsage !== undefined ? Math.max(0, Math.floor((m.swapUsage - m.usage) / 1024)) : Math.floor(statValue(m, 'swap') / 1024);
  }
  return { total, used: Math.min(used, total) };
}

const line = (label: string, kb: number) => `${`${label}:`.padEnd(16)}${String(Math.max(0, Math.floor(kb))).padStart(8)} kB`;

export function meminfo(host: string, m: MemInput): string {
  const h = parseMeminfo(host);
  const hostTotal = h.get('MemTotal') ?? 0;
  if (m.limit === undefined || m.limit / 1024 >= hostTotal) return host;
  const total = Math.floor(m.limit / 1024), used = Math.min(total, Math.floor(m.usage / 1024));
  const kb = (k: string) => statValue(m, k) / 1024;
  const free = total - used;
  const swap = swapOf(m, h.get('SwapTotal') ?? 0, total);
  const values: Record<string, number> = {
    MemTotal: total,
    MemFree: free,
    MemAvailable: Math.min(total, free + kb('active_file') + kb('inactive_file') + kb('slab_reclaimable')),
    Buffers: 0,
    Cached: kb('cache'),
    SwapCached: 0,
    Active: kb('active_anon') + kb('active_file'),
    Inactive: kb('inactive_anon') + kb('inactive_file'),
    'Active(anon)': kb('active_anon'),
    'Inactive(anon)': kb('inactive_anon'),
    'Active(file)': kb('active_file'),
    'Inactive(file)': kb('inactive_file'),
    Unevictable: kb('unevictable'),
    SwapTotal: swap.total,
    SwapFree: swap.total - swap.used,
    Dirty: kb('dirty'),
    Writeback: kb('writeback'),
    AnonPages: Math.max(0, kb('active_anon') + kb('inactive_anon') - kb('shmem')),
    Mapped: kb('mapped_file'),
    Shmem: kb('shmem'),
    AnonHugePages: kb('rss_huge'),
    ShmemHugePages: 0,
    ShmemPmdMapped: 0,
    // v2 charges slab to the cgroup; v1's memory.stat has no slab figures: 0, never the host's —
    // busybox free subtracts SReclaimable from the total along with Cached, and the host's
    // figure made its "used" wrap around below zero
    Slab: kb('slab'), SReclaimable: kb('slab_reclaimable'), SUnreclaim: kb('slab_unreclaimable'),
  };
  return host.split('\n').map((l) => {
    const label = /^([^:]+):/.exec(l)?.[1];
    return label !== undefined && label in values ? line(label, values[label]) : l;
  }).join('\n');
}
