// box top CONTAINER: the container's processes with their host PIDs (from its cgroup).
import * as fs from 'node:fs';
import { parseCommand } from '../options/flags';
import { find } from '../state/store';
import { BoxError } from '../libc/errors';
import { managerForDirs } from '../cgroup/manager';
import { running } from './running';

export function top(args: string[]): number {
  const { positionals } = parseCommand('top', args, {}, true);
  if (positionals.length < 1) throw new BoxError('box top: requires at least 1 argument');
  const s = find(positionals[0]);
  if (!running(s)) throw new BoxError(`box top: container ${positionals[0]} is not running`);
  const hz = 100;
  const rows = managerForDirs(s.cgroups).pids().sort((a, b) => a - b).flatMap((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const uid = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)![1];
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') || `[${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}]`;
      const secs = Math.floor((Number(f[11]) + Number(f[12])) / hz);
      const time = `${String(Math.floor(secs / 3600)).padStart(2, '0')}:${String(Math.floor(secs / 60) % 60).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
      return [[uid, String(pid), f[1], time, cmd]];
    } catch { return []; }
  });
  const table = [['UID', 'PID', 'PPID', 'TIME', 'CMD'], ...rows];
  const w = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  process.stdout.write(table.map((r) => r.map((c, i) => (i < 4 ? c.padEnd(w[i] + 2) : c)).join('') + '\n').join(''));
  return 0;
}
