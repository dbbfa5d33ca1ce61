// box stats [--no-stream] [-a] [--no-trunc] [--format TEMPLATE] [CONTAINER...]: Docker's columns from the containers' cgroups
// (lib/container/stats.ts). CPU % = Δ container CPU time / Δ host CPU time × online CPUs ×
// 100, as Docker computes it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseCommand } from '../options/flags';
import { get, list, isRunning } from '../container/query';
import { stats as containerStats } from '../container/stats';
import { table } from '../util/table';
import { TYPE } from './gofmt';
import { formatList, isCustom, parseList } from './format';

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

/** Docker's column names for a "table" template (docker/cli container/formatter_stats.go). */
const HEADER = {
  Container: 'CONTAINER', Name: 'NAME', ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %',
  NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};

/** What `{{.Field}}` reads in `stats --format`: Docker's statsContext, from a row of the default table. */
const context = ([ID, Name, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO, PIDs, Container]: string[]) =>
  ({ [TYPE]: '*container.statsContext', BlockIO, CPUPerc, Container, ID, MemPerc, MemUsage, Name, NetIO, PIDs });

export async function stats(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('stats', args, { 'no-stream': { type: 'boolean' }, all: { type: 'boolean', short: 'a' }, format: { type: 'string' }, 'no-trunc': { type: 'boolean' } }, true);
  const custom = v.format === 'json' ? '{{json .}}' : isCustom(v.format) && v.format;
  if (custom) parseList('stats', custom); // a bad template fails before the first sample
  // [record, what Docker's .Container shows: the name or ID as given, else the short ID]
  const pick = () => (positionals.length ? positionals.map((r) => [get(r), r] as const) : list({ all: true }).map((s) => [s, s.id.slice(0, 12)] as const)).filter(([s]) => v.all || isRunning(s));
  const ncpu = os.cpus().length;
  const prev = new Map<string, [number, number]>();
  for (let round = 0; ; round++) {
    const rows = pick().map(([s, ref]) => {
      const st = containerStats(s);
      const host = hostCpuNs();
      const p = prev.get(s.id);
      prev.set(s.id, [st.cpuNs, host]);
      const cpu = p && host > p[1] ? ((st.cpuNs - p[0]) / (host - p[1])) * ncpu * 100 : 0;
      const limit = Number.isFinite(st.memoryLimit) ? st.memoryLimit : os.totalmem();
      return [v['no-trunc'] ? s.id : s.id.slice(0, 12), s.name, `${cpu.toFixed(2)}%`, `${size(st.memory || 0)} / ${size(limit)}`, `${((100 * (st.memory || 0)) / limit).toFixed(2)}%`,
        `${size(st.net.rx, true)} / ${size(st.net.tx, true)}`, `${size(st.block.read, true)} / ${size(st.block.write, true)}`, String(Number.isFinite(st.pids) ? st.pids : 0),
        ref];
    });
    if (round > 0 || !v['no-stream']) {
      if (!v['no-stream']) process.stdout.write('\x1b[2J\x1b[H');
      process.stdout.write(custom ? formatList('stats', custom, rows.map(context), HEADER)
        : table([['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'], ...rows.map((r) => r.slice(0, 8))]));
      if (v['no-stream']) return 0;
    }
    await new Promise((r) => setTimeout(r, round === 0 ? 500 : 1000));
  }
}
