// /proc/stat for a container: a cpuN line per visible CPU (renumbered from 0) and the "cpu"
// sum, with user and system time the container's own (v1 cpuacct.usage_all per CPU, v2
// cpu.stat's totals spread evenly), and all the rest of each CPU's time counted idle, so the
// columns still add up to wall time as tools expect (top's %CPU = busy / total). The other
// lines (intr, ctxt, btime, processes, softirq) are the host's; procs_running is the container's.

export interface CpuUsage {
  /** Nanoseconds of user and system time per host CPU id (v1 cpuacct.usage_all); absent on v2. */
  perCpu?: Map<number, { user: number; system: number }>;
  /** Nanoseconds in total. */
  user: number;
  system: number;
}

const TICK_NS = 1e7; // USER_HZ is 100 on every Linux architecture box runs on

/** cpuacct.usage_all: "cpu user system" then one line per CPU, in ns. */
export function parseUsageAll(text: string): Map<number, { user: number; system: number }> {
  const m = new Map<number, { user: number; system: number }>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length === 3 && f.every((x) => /^\d+$/.test(x))) m.set(Number(f[0]), { user: Number(f[1]), system: Number(f[2]) });
  }
  return m;
}

export function stat(host: string, visible: number[], usage: CpuUsage, running?: number): string {
  const lines = host.split('\n');
  const hostCpu = new Map<number, number[]>();
  for (const l of lines) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(l);
    if (m) hostCpu.set(Number(m[1]), m[2].trim().split(/\s+/).map(Number));
  }
  const perCpuKnown = usage.perCpu && visible.every((c) => usage.perCpu!.has(c)) && usage.perCpu.size > 0;
  // When fewer CPUs are shown than the cgroup ran on (a quota below its cpuset), the time spent elsewhere is spread over the ones shown.
  const spreadAll = !perCpuKnown || [...usage.perCpu!.entries()].some(([c, u]) => !visible.includes(c) && u.user + u.system > 0);
  const rows = visible.map((c) => {
    const h = hostCpu.get(c) ?? [];
    const u = spreadAll ? { user: usage.user / visible.length, system: usage.system / visible.length } : usage.perCpu!.get(c)!;
    const user = Math.floor(u.user / TICK_NS), system = Math.floor(u.system / TICK_NS);
    const hostTotal = h.slice(0, 8).reduce((a, b) => a + (b || 0), 0);
    const iowait = h[4] || 0;
    const idle = Math.max(0, hostTotal - user - system - iowait);
    return [user, 0, system, idle, iowait, 0, 0, 0, 0, 0];
  });
  const sum = rows.reduce((acc, r) => acc.map((v, i) => v + r[i]), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const out: string[] = [`cpu  ${sum.join(' ')}`, ...rows.map((r, i) => `cpu${i} ${r.join(' ')}`)];
  for (const l of lines) {
    if (/^cpu\d*\s/.test(l)) continue;
    out.push(running !== undefined && l.startsWith('procs_running ') ? `procs_running ${running}` : l);
  }
  return out.join('\n');
}
