// box logs [-f] [--tail N] [-t] CONTAINER: the supervisor's json-file log, as Docker shows it.
import * as fs from 'node:fs';
import { parseCommand } from '../options/flags';
import { load } from '../state/store';
import { BoxError } from '../libc/errors';
import { get, isRunning } from '../container/query';
import { logFile } from '../supervisor/logs';
import { readRotated, LogFollower } from '../supervisor/log-files';

export async function logs(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('logs', args, {
    follow: { type: 'boolean', short: 'f' }, tail: { type: 'string', short: 'n' }, timestamps: { type: 'boolean', short: 't' },
  }, true);
  if (positionals.length !== 1) throw new BoxError('box logs: requires exactly 1 argument');
  const s = get(positionals[0]);
  const file = logFile(s.id);
  if (s.spec.log?.type === 'none') throw new BoxError('box logs: configured logging driver does not support reading', 1);
  if (!fs.existsSync(file)) throw new BoxError(`box logs: container ${positionals[0]} has no log: only detached containers (run -d, create) are logged`);
  const tail = v.tail === undefined || v.tail === 'all' ? Infinity : Number(v.tail);
  if (Number.isNaN(tail) || tail < 0) throw new BoxError(`box logs: invalid --tail "${v.tail}"`);
  const print = (line: string) => {
    if (!line) return;
    const e = JSON.parse(line);
    (e.stream === 'stderr' ? process.stderr : process.stdout).write(v.timestamps ? `${e.time} ${e.log}` : e.log);
  };
  // FILE opened first, then the rotated files (--log-opt max-size) before it: a rotation meanwhile loses nothing
  const follower = new LogFollower(file);
  const parts = (readRotated(s.id, follower.inode) + follower.read()).split('\n');
  let partial = parts.pop()!; // a record still being written
  const lines = parts.filter(Boolean);
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
    await new Promise((r) => setTimeout(r, 100));
  }
}
