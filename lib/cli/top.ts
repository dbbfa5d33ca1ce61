// box top CONTAINER: the container's processes with their host PIDs (from its cgroup).
import * as fs from 'node:fs';
import { parseCommand } from '../options/flags';
import { find } from '../state/store';
import { BoxError } from '../libc/errors';
import { pidsOf } from '../cgroup/manager';
import { running } from './running';
import { readStat } from '../util/proc';

export function top(args: string[]): number {
  const { positionals } = parseCommand('top', args, {}, true);
  if (positionals.length < 1) throw new BoxError('box top: requires at least 1 argument');
  const s = find(positionals[0]);
  if (!running(s)) throw new BoxError(`box top: container ${positionals[0]} is not running`);
  const hz = 100;
  const rows = pidsOf(s.cgroups).sort((a, b) => a - b).flatMap((pid) => {
    try {
      const st = readStat(pid);
      if (!st) return [];
      const uid = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)![1];
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') || `[${st.comm}]`;
      const secs = Math.floor((st.utime + st.stime) / hz);
      const time = `${String(Math.floor(secs / 3600)).padStart(2, '0')}:${String(Math.floor(secs / 60) % 60).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
      return [[uid, String(pid), String(st.ppid), time, cmd]];
    } catch { return []; }
  });
  const table = [['UID', 'PID', 'PPID', 'TIME', 'CMD'], ...rows];
  const w = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  process.stdout.write(table.map((r) => r.map((c, i) => (i < 4 ? c.padEnd(w[i] + 2) : c)).join('') + '\n').join(''));
  return 0;
}
