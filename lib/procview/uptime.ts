// /proc/uptime since the container's init started: the host's uptime less the init's start
// time (/proc/<pid>/stat field 22, in clock ticks since boot). Idle: the CPU time the
// container's CPUs had and the container did not use, as lxcfs does.

export function uptime(hostUptime: string, initStartTicks: number | undefined, clkTck: number, usedNs: number, ncpus: number): string {
  if (initStartTicks === undefined) return hostUptime;
  const host = Number(hostUptime.trim().split(/\s+/)[0]);
  if (!Number.isFinite(host)) return hostUptime;
  const up = Math.max(0, host - initStartTicks / clkTck);
  const idle = Math.max(0, up * ncpus - usedNs / 1e9);
  return `${up.toFixed(2)} ${idle.toFixed(2)}\n`;
}
