// Which CPUs a container is shown, and the files that list CPUs: /proc/cpuinfo and
// /sys/devices/system/cpu/online (glibc's sysconf(_SC_NPROCESSORS_ONLN) counts the latter).
// As lxcfs: the cpuset's CPUs, and no more than ceil(quota / period) of them when a CFS
// quota is set (--cpus 1 on a 2-CPU host shows 1 CPU). The CPUs shown are renumbered from 0:
// a container must not learn more than it could from its own view.

/** Host CPU ids the container is shown: `allowed` (its cpuset, within the host's online CPUs), cut to the quota's ceiling. */
export function visibleCpus(hostOnline: number[], cpuset: number[] | undefined, quota?: number, period?: number): number[] {
  let cpus = cpuset?.length ? hostOnline.filter((c) => cpuset.includes(c)) : hostOnline;
  if (!cpus.length) cpus = hostOnline;
  if (quota !== undefined && quota > 0 && period !== undefined && period > 0) cpus = cpus.slice(0, Math.max(1, Math.ceil(quota / period)));
  return cpus;
}

/** v1's cpu.cfs_quota_us / cpu.cfs_period_us ("-1": none) or v2's cpu.max ("max 100000"). */
export function parseQuota(v2: boolean, a: string | undefined, b?: string): { quota?: number; period?: number } {
  if (v2) {
    const [q, p] = (a ?? '').trim().split(/\s+/);
    return /^\d+$/.test(q ?? '') && /^\d+$/.test(p ?? '') ? { quota: Number(q), period: Number(p) } : {};
  }
  const q = Number(a?.trim()), p = Number(b?.trim());
  return q > 0 && p > 0 ? { quota: q, period: p } : {};
}

/** /sys/devices/system/cpu/online for `n` CPUs numbered from 0. */
export const cpuOnline = (n: number): string => (n <= 1 ? '0\n' : `0-${n - 1}\n`);

/**
 * /proc/cpuinfo: the host's per-processor blocks of the visible CPUs only, renumbered, in
 * their order; anything that is not a processor block (arm64's trailing lines) kept as is.
 */
export function cpuinfo(host: string, visible: number[]): string {
  const blocks = host.split(/\n\n+/);
  const out: string[] = [];
  let next = 0;
  for (const b of blocks) {
    const m = /^processor\s*:\s*(\d+)/m.exec(b);
    if (!m) { if (b.trim()) out.push(b.replace(/\n+$/, '')); continue; }
    if (!visible.includes(Number(m[1]))) continue;
    const n = next++;
    out.push(b.replace(/^(processor\s*:\s*)\d+/m, `$1${n}`).replace(/^(siblings\s*:\s*)\d+/m, `$1${visible.length}`).replace(/^(cpu cores\s*:\s*)\d+/m, `$1${visible.length}`).replace(/\n+$/, ''));
  }
  return `${out.join('\n\n')}\n\n`;
}
