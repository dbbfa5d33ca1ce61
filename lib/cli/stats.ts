// box stats [--no-stream] [CONTAINER...]: Docker's columns from the cgroup files.
// CPU % = Δ container CPU time / Δ host CPU time × online CPUs × 100, as Docker computes it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseCommand } from '../options/flags';
import { find, list, ContainerState } from '../state/store';
import { managerForDirs } from '../cgroup/manager';
import { running } from './running';

function hostCpuNs(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  return (f.reduce((a, b) => a + b, 0) * 1e9) / 100; // USER_HZ is 100 on Linux
}

function netIO(pid: number): [number, number] {
  try {
    return fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2).filter(Boolean)
      .map((l) => l.trim().split(/[:\s]+/)).reduce(([rx, tx], f) => [rx + Number(f[1]), tx + Number(f[9])], [0, 0]);
  } catch { return [0, 0]; }
}

function blockIO(s: ContainerState): [number, number] {
  for (const d of s.cgroups) {
    for (const [file, re] of [['blkio.throttle.io_service_bytes', /^\S+ (Read|Write) (\d+)/gm], ['io.stat', /(rbytes|wbytes)=(\d+)/g]] as const) {
      try {
        let r = 0, w = 0;
        for (const m of fs.readFileSync(`${d}/${file}`, 'utf8').matchAll(re)) (m[1] === 'Read' || m[1] === 'rbytes' ? (r += Number(m[2])) : (w += Number(m[2])));
        return [r, w];
      } catch { /* not this one */ }
    }
  }
  return [0, 0];
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
  const pick = () => (positionals.length ? positionals.map(find) : list()).filter((s) => v.all || running(s));
  const ncpu = os.cpus().length;
  let prev = new Map<string, [number, number]>();
  for (let round = 0; ; round++) {
    const rows = pick().map((s) => {
      const st = managerForDirs(s.cgroups).stats();
      const host = hostCpuNs();
      const p = prev.get(s.id);
      prev.set(s.id, [st.cpuNs, host]);
      const cpu = p && host > p[1] ? ((st.cpuNs - p[0]) / (host - p[1])) * ncpu * 100 : 0;
      const limit = Number.isFinite(st.memoryLimit) ? st.memoryLimit : os.totalmem();
      const [rx, tx] = running(s) ? netIO(s.pid!) : [0, 0];
      const [br, bw] = blockIO(s);
      return [s.id.slice(0, 12), s.name, `${cpu.toFixed(2)}%`, `${size(st.memory || 0)} / ${size(limit)}`, `${((100 * (st.memory || 0)) / limit).toFixed(2)}%`,
        `${size(rx, true)} / ${size(tx, true)}`, `${size(br, true)} / ${size(bw, true)}`, String(Number.isFinite(st.pids) ? st.pids : 0)];
    });
    if (round > 0 || !v['no-stream']) {
      const table = [['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'], ...rows];
      const w = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
      if (!v['no-stream']) process.stdout.write('\x1b[2J\x1b[H');
      process.stdout.write(table.map((r) => r.map((c, i) => c.padEnd(w[i] + 3)).join('').trimEnd() + '\n').join(''));
      if (v['no-stream']) return 0;
    }
    await new Promise((r) => setTimeout(r, round === 0 ? 500 : 1000));
  }
}
