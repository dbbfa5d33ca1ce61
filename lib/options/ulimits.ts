// --ulimit NAME=SOFT[:HARD] as Docker parses it (go-units ParseUlimit): Docker's names, -1
// unlimited, hard = soft when only one is given. Applied in the stage (lib/inside/process.ts).
import { BoxError } from '../libc/errors';
import type { Ulimit } from './types';

/** Docker's names → the kernel's RLIMIT_* names (lib/libc/process.ts RLIMIT). */
export const ULIMIT_NAMES: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

export function parseUlimit(s: string): Ulimit {
  const fail = (why: string): never => { throw new BoxError(`box run: invalid argument "${s}" for "--ulimit" flag: ${why}`); };
  const eq = s.indexOf('=');
  if (eq < 0) fail(`invalid ulimit argument: ${s}`);
  const name = s.slice(0, eq);
  if (!(name in ULIMIT_NAMES)) fail(`invalid ulimit type: ${name}`);
  const vals = s.slice(eq + 1).split(':');
  if (vals.length > 2) fail(`too many limit value arguments - ${s.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const num = (v: string) => (/^-?\d+$/.test(v) && Number.isSafeInteger(Number(v)) && Number(v) >= -1 ? Number(v) : fail(`strconv.ParseInt: parsing "${v}": invalid syntax`));
  const soft = num(vals[0]);
  const hard = vals.length === 2 ? num(vals[1]) : soft;
  if (hard !== -1 && (soft > hard || soft === -1)) fail(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { name, soft, hard };
}

/** The later of two --ulimit of one name wins (Docker keeps one per name). */
export function parseUlimits(list: string[]): Ulimit[] | undefined {
  if (!list.length) return undefined;
  const byName = new Map<string, Ulimit>();
  for (const s of list) { const u = parseUlimit(s); byName.set(u.name, u); }
  return [...byName.values()];
}

/** In the stage's terms (ProcessExtras rlimits): -1 is RLIM_INFINITY, which a JSON 2^64 stands for. */
export function asRlimits(ulimits: Ulimit[]): { type: string; soft: number; hard: number }[] {
  const v = (n: number) => (n === -1 ? 2 ** 64 : n);
  return ulimits.map((u) => ({ type: ULIMIT_NAMES[u.name], soft: v(u.soft), hard: v(u.hard) }));
}
