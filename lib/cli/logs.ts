// box logs [-f] [--tail N] [-t] [--since T] [--until T] CONTAINER: the supervisor's json-file log, as Docker shows it.
import * as fs from 'node:fs';
import { parseCommand } from '../options/flags';
import { load } from '../state/store';
import { BoxError } from '../libc/errors';
import { get, isRunning } from '../container/query';
import { logFile } from '../supervisor/logs';
import { readRotated, LogFollower } from '../supervisor/log-files';
import { parseTimestamp, recordTime } from './timestamp';

export async function logs(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('logs', args, {
    follow: { type: 'boolean', short: 'f' }, tail: { type: 'string', short: 'n' }, timestamps: { type: 'boolean', short: 't' },
    since: { type: 'string' }, until: { type: 'string' },
  }, true);
  const time = (flag: 'since' | 'until') => {
    if (v[flag] === undefined || v[flag] === '') return undefined;
    try { return parseTimestamp(v[flag]); } catch (e: any) { throw new BoxError(`box logs: invalid value for "${flag}": ${e.message}`); }
  };
  const since = time('since'), until = time('until');
  if (positionals.length !== 1) throw new BoxError('box logs: requires exactly 1 argument');
  const s = get(positionals[0]);
  const file = logFile(s.id);
  if (s.spec.log?.type === 'none') throw new BoxError('box logs: configured logging driver does not support reading', 1);
  if (!fs.existsSync(file)) throw new BoxError(`box logs: container ${positionals[0]} has no log (an attached run of an older box: only detached containers were logged then)`);
  const tail = v.tail === undefined || v.tail === 'all' ? Infinity : Number(v.tail);
  if (Number.isNaN(tail) || tail < 0) throw new BoxError(`box logs: invalid --tail "${v.tail}"`);
  // Docker's json-file reader: records before --since are skipped, after --until end the output (both bounds kept)
  const inRange = (e: { time: string }) => (since === undefined || recordTime(e.time) >= since) && (until === undefined || recordTime(e.time) <= until);
  const print = (line: string) => {
    if (!line) return;
    const e = JSON.parse(line);
    if (!inRange(e)) return;
    (e.stream === 'stderr' ? process.stderr : process.stdout).write(v.timestamps ? `${e.time} ${e.log}` : e.log);
  };
  // FILE opened first, then the rotated files (--log-opt max-size) before it: a rotation meanwhile loses nothing
  const follower = new LogFollower(file);
  const parts = (readRotated(s.id, follower.inode) + follower.read()).split('\n');
  let partial = parts.pop()!; // a record still being written
  const lines = parts.filter((l) => l && (since === undefined && until === undefined || inRange(JSON.parse(l))));
  lines.slice(tail === Infinity ? 0 : Math.max(0, lines.length - tail)).forEach(print);
  if (!v.follow) { follower.close(); return 0; }
  for (;;) {
    const now = load(s.id);
    const chunk = follower.read();
    if (chunk) {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      parts.forEach(print);
    } else if (!now || !isRunning(now)) {
      follower.close();
      return 0;
    }
    if (until !== undefined && BigInt(Date.now()) * 1_000_000n > until) return 0; // nothing later can be in range
    await new Promise((r) => setTimeout(r, 100));
  }
}
