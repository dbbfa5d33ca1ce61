// box ns CONTAINER: the seed's view of what a container is — for each namespace type,
// the inode the container's PID 1 is in and the one box (the host) is in, like
// `ls -la /proc/PID/ns` and `lsns`; "shared" where they are the same.
import * as fs from 'node:fs';
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { get, isRunning } from '../container/query';
import { table } from '../util/table';

const TYPES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'];

export function ns(args: string[]): number {
  const { values: v, positionals } = parseCommand('ns', args, { format: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new BoxError('box ns: requires exactly 1 argument');
  const s = get(positionals[0]);
  if (!isRunning(s)) throw new BoxError(`box ns: container ${positionals[0]} is not running`);
  const inode = (p: string) => { try { return fs.readlinkSync(p).replace(/^\w+:\[(\d+)\]$/, '$1'); } catch { return '-'; } };
  const rows = TYPES.filter((t) => fs.existsSync(`/proc/self/ns/${t}`)).map((t) => {
    const c = inode(`/proc/${s.pid}/ns/${t}`), h = inode(`/proc/self/ns/${t}`);
    return { type: t, container: c, host: h, shared: c === h };
  });
  if (v.format === 'json') { process.stdout.write(JSON.stringify({ pid: s.pid, namespaces: rows }, null, 2) + '\n'); return 0; }
  process.stdout.write(`container ${s.id.slice(0, 12)} (${s.name}), PID 1 is host PID ${s.pid}: /proc/${s.pid}/ns\n`);
  process.stdout.write(table([['NS', 'CONTAINER', 'HOST', ''], ...rows.map((r) => [r.type, r.container, r.host, r.shared ? 'shared with the host' : 'own'])], 2));
  return 0;
}
