// box volume create|ls|rm|inspect|prune: Docker's "local" volumes (lib/state/volumes.ts), with
// Docker's output and words; a volume some container's record names is in use.
import { parseCommand, HelpRequested } from '../options/flags';
import { BoxError, UsageError } from '../libc/errors';
import { parseLabels } from '../options/run-extra';
import { ensureVolume, listVolumes, volumeInfo, removeVolume, validVolumeName, anonymousName, VolumeInfo } from '../state/volumes';
import { volumeUsers } from '../container/volumes';
import { confirm } from './confirm';
import { tabwrite, humanSize } from './format';
import { diskUsage } from '../util/du';

export function volume(args: string[]): number {
  const [sub, ...rest] = args;
  switch (sub) {
    case undefined: case '--help': throw new HelpRequested('volume', {});
    case 'create': return create(rest);
    case 'ls': case 'list': return ls(rest);
    case 'rm': case 'remove': return rm(rest);
    case 'inspect': return inspect(rest);
    case 'prune': return prune(rest);
    default: throw new BoxError(`box volume: unknown command "${sub}" (create, ls, rm, inspect, prune)`, 1);
  }
}

const invalidName = (name: string) => `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`;

function create(args: string[]): number {
  const { values: v, positionals } = parseCommand('volume create', args, {
    driver: { type: 'string', short: 'd' }, label: { type: 'string', multiple: true }, name: { type: 'string' },
  }, true);
  if (positionals.length > 1) throw new UsageError('box volume create: accepts at most 1 argument');
  if (v.name !== undefined && positionals.length && v.name !== positionals[0]) throw new UsageError(`box volume create: conflicting options: either specify --name or provide positional arg, not both`);
  if (v.driver !== undefined && v.driver !== 'local') throw new BoxError(`box volume create: error looking up volume plugin ${v.driver}: plugin "${v.driver}" not found`, 1);
  const name = positionals[0] ?? v.name ?? anonymousName();
  if (!validVolumeName(name)) throw new BoxError(`box volume create: create ${name}: ${invalidName(name)}`, 1);
  ensureVolume(name, { labels: parseLabels([], v.label ?? []) }); // an existing one is fine (Docker)
  process.stdout.write(`${name}\n`);
  return 0;
}

function ls(args: string[]): number {
  const { values: v, positionals } = parseCommand('volume ls', args, { quiet: { type: 'boolean', short: 'q' } }, true);
  if (positionals.length) throw new UsageError(`box volume ls: accepts no arguments (got "${positionals[0]}")`);
  const vols = listVolumes();
  if (v.quiet) process.stdout.write(vols.map((x) => `${x.name}\n`).join(''));
  else process.stdout.write(tabwrite(['DRIVER\tVOLUME NAME', ...vols.map((x) => `local\t${x.name}`)].join('\n')) + '\n');
  return 0;
}

function rm(args: string[]): number {
  const { values: v, positionals } = parseCommand('volume rm', args, { force: { type: 'boolean', short: 'f' } }, true);
  if (!positionals.length) throw new UsageError('box volume rm: requires at least 1 argument');
  let status = 0;
  for (const name of positionals) {
    try {
      if (!volumeInfo(name)) { if (v.force) continue; throw new Error(`get ${name}: no such volume`); }
      const users = volumeUsers(name);
      if (users.length) throw new Error(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      removeVolume(name);
      process.stdout.write(`${name}\n`);
    } catch (e: any) {
      process.stderr.write(`box volume rm: ${e.message}\n`);
      status = 1;
    }
  }
  return status;
}

const asDocker = (x: VolumeInfo) => ({
  CreatedAt: x.createdAt.replace(/\.\d+Z$/, 'Z'), Driver: 'local', Labels: Object.keys(x.labels).length ? x.labels : null,
  Mountpoint: x.mountpoint, Name: x.name, Options: null, Scope: 'local',
});

function inspect(args: string[]): number {
  const { positionals } = parseCommand('volume inspect', args, {}, true);
  if (!positionals.length) throw new UsageError('box volume inspect: requires at least 1 argument');
  const out: object[] = [];
  let status = 0;
  for (const name of positionals) {
    const x = volumeInfo(name);
    if (!x) { process.stderr.write(`box volume inspect: get ${name}: no such volume\n`); status = 1; continue; }
    out.push(asDocker(x));
  }
  process.stdout.write(JSON.stringify(out, null, 4) + '\n');
  return status;
}

/** Docker ≥ 23: anonymous volumes no container uses; with -a every unused one. */
function prune(args: string[]): number {
  const { values: v, positionals } = parseCommand('volume prune', args, { all: { type: 'boolean', short: 'a' }, force: { type: 'boolean', short: 'f' } }, true);
  if (positionals.length) throw new UsageError(`box volume prune: accepts no arguments (got "${positionals[0]}")`);
  const what = v.all ? 'all local volumes not used by at least one container' : 'anonymous local volumes not used by at least one container';
  if (!v.force && !confirm(`WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `)) return 0;
  const gone: string[] = [];
  let bytes = 0;
  for (const x of listVolumes()) {
    if ((!v.all && !x.anonymous) || volumeUsers(x.name).length) continue;
    const size = diskUsage(x.mountpoint);
    try { removeVolume(x.name); } catch { continue; }
    bytes += size;
    gone.push(x.name);
  }
  if (gone.length) process.stdout.write(`Deleted Volumes:\n${gone.map((n) => `${n}\n`).join('')}\n`);
  process.stdout.write(`Total reclaimed space: ${humanSize(bytes, 4)}\n`);
  return 0;
}
