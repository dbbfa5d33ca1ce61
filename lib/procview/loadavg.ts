// /proc/loadavg from the container's own tasks. The kernel keeps load averages only for the
// whole host, and lxcfs samples every cgroup every 5 s in a thread to build its own; this
// server computes at read time instead: each read samples the runnable count and folds it into
// the cgroup's averages with the kernel's decay for the time since the previous read. Between
// reads nothing runs, so a cgroup read rarely decays from its last sample — an approximation,
// honest about its running/total counts, which are exact at the moment of the read.

export interface Load { one: number; five: number; fifteen: number; at: number }

/** Fold `runnable` (sampled at `now`, seconds) into `prev` with exp(-dt/60|300|900), as calc_load does. */
export function nextLoad(prev: Load | undefined, runnable: number, now: number): Load {
  if (!prev) return { one: runnable, five: runnable, fifteen: runnable, at: now };
  const dt = Math.max(0, now - prev.at);
  const f = (old: number, period: number) => { const e = Math.exp(-dt / period); return old * e + runnable * (1 - e); };
  return { one: f(prev.one, 60), five: f(prev.five, 300), fifteen: f(prev.fifteen, 900), at: now };
}

export const loadavg = (l: Load, running: number, total: number, lastPid: number): string =>
  `${l.one.toFixed(2)} ${l.five.toFixed(2)} ${l.fifteen.toFixed(2)} ${running}/${total} ${lastPid}\n`;
