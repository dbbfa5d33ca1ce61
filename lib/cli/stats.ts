// box stats [--no-stream] [-a] [CONTAINER...]: Docker's columns from the containers' cgroups
// (lib/container/stats.ts). CPU % = Δ container CPU time / Δ host CPU time × online CPUs ×
// 100, as Docker computes it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseCommand } from '../options/flags';
import { get, list, isRunning } from '../container/query';
import { stats as containerStats } from '../container/stats';
import { table } from '../util/table';

function hostCpuNs(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  return (f.reduce((a, b) => a + b, 0) * 1e9) / 100; // USER_HZ is 100 on Linux
}

export function size(n: number, si = false): string {
  if (!Number.isFinite(n)) return '--';
  const [base, units] = si ? [1000, ['B', 'kB', 'MB', 'GB', 'TB']] : [1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB']];
  let i = 0;
  while (n >= base && i < units.length - 1) { n /= base; i++; }
  return `${i ? n.toFixed(2).replace(/\.?0+$/, (m) => (m.startsWith('.') ? '' : m)) : n}${units[i]}`;
}

export async function stats(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('stats', args, { 'no-stream': { type: 'boolean' }, all: { type: 'boolean', short: 'a' } }, true);
  const pick = () => (positionals.length ? positionals.map(get) : list({ all: true })).filter((s) => v.all || isRunning(s));
  const ncpu = os.cpus().length;
  const prev = new Map<string, [number, number]>();
  for (let round = 0; ; round++) {
    const rows = pick().map((s) => {
      const st = containerStats(s);
      const host = hostCpuNs();
      const p = prev.get(s.id);
      prev.set(s.id, [st.cpuNs, host]);
      const cpu = p && host > p[1] ? ((st.cpuNs - p[0]) / (host - p[1])) * ncpu * 100 : 0;
      const limit = Number.isFinite(st.memoryLimit) ? st.memoryLimit : os.totalmem();
      return [s.id.slice(0, 12), s.name, `${cpu.toFixed(2)}%`, `${size(st.memory || 0)} / ${size(limit)}`, `${((100 * (st.memory || 0)) / limit).toFixed(2)}%`,
        `${size(st.net.rx, true)} / ${size(st.net.tx, true)}`, `${size(st.block.read, true)} / ${size(st.block.write, true)}`, String(Number.isFinite(st.pids) ? st.pids : 0)];
    });
    if (round > 0 || !v['no-stream']) {
      if (!v['no-stream']) process.stdout.write('\x1b[2J\x1b[H');
      process.stdout.write(table([['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'], ...rows]));
      if (v['no-stream']) return 0;
    }
    await new Promise((r) => setTimeout(r, round === 0 ? 500 : 1000));
  }
}
