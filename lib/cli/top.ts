// box top CONTAINER: the container's processes with their host PIDs (from its cgroups).
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { get, isRunning } from '../container/query';
import { processes } from '../container/stats';
import { table } from '../util/table';

export function top(args: string[]): number {
  const { positionals } = parseCommand('top', args, {}, true);
  if (positionals.length < 1) throw new BoxError('box top: requires at least 1 argument');
  const s = get(positionals[0]);
  if (!isRunning(s)) throw new BoxError(`box top: container ${positionals[0]} is not running`);
  const hh = (n: number) => String(n).padStart(2, '0');
  const rows = processes(s).map((p) => {
    const secs = Math.floor(p.cpuTicks / 100); // USER_HZ
    return [String(p.uid), String(p.pid), String(p.ppid), `${hh(Math.floor(secs / 3600))}:${hh(Math.floor(secs / 60) % 60)}:${hh(secs % 60)}`, p.command];
  });
  process.stdout.write(table([['UID', 'PID', 'PPID', 'TIME', 'CMD'], ...rows], 2));
  return 0;
}
