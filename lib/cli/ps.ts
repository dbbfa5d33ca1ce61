// box ps [-a] [-q] [--no-trunc] [--format json]: Docker's columns.
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { list, ContainerState } from '../container/query';
import { table } from '../util/table';

export function ps(args: string[]): number {
  const { values: v } = parseCommand('ps', args, {
    all: { type: 'boolean', short: 'a' }, quiet: { type: 'boolean', short: 'q' },
    'no-trunc': { type: 'boolean' }, format: { type: 'string' }, last: { type: 'string', short: 'n' }, latest: { type: 'boolean', short: 'l' },
  }, true);
  const last = v.latest ? 1 : v.last !== undefined ? Number(v.last) : undefined;
  if (last !== undefined && !(last >= 0)) throw new BoxError(`box ps: invalid --last "${v.last}"`);
  let rows = list({ all: v.all || last !== undefined });
  if (last !== undefined) rows = rows.slice(0, last);
  const id = (s: ContainerState) => (v['no-trunc'] ? s.id : s.id.slice(0, 12));
  if (v.quiet) { process.stdout.write(rows.map((s) => id(s) + '\n').join('')); return 0; }
  if (v.format === 'json') {
    process.stdout.write(rows.map((s) => JSON.stringify({ ID: id(s), Image: s.image, Command: s.spec.command.join(' '), CreatedAt: s.created, State: s.status, Status: status(s), Names: s.name }) + '\n').join(''));
    return 0;
  }
  process.stdout.write(table([['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
    ...rows.map((s) => [id(s), s.image, JSON.stringify(trunc(s.spec.command.join(' '), v['no-trunc'])), ago(s.created) + ' ago', status(s), '', s.name])]));
  return 0;
}

const trunc = (s: string, no: boolean) => (no || s.length <= 20 ? s : s.slice(0, 19) + '…');

function status(s: ContainerState): string {
  if (s.status === 'running') return `Up ${ago(s.startedAt ?? s.created)}${s.paused ? ' (Paused)' : ''}`;
  if (s.status === 'created') return 'Created';
  if (s.status === 'exited') return `Exited (${s.exitCode ?? 0}) ${ago(s.finishedAt ?? s.created)} ago`;
  return s.status[0].toUpperCase() + s.status.slice(1);
}

export function ago(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${Math.floor(s)} second${Math.floor(s) === 1 ? '' : 's'}`;
  if (s < 3600) return `${Math.floor(s / 60)} minutes`;
  if (s < 86400) return `${Math.floor(s / 3600)} hours`;
  return `${Math.floor(s / 86400)} days`;
}
