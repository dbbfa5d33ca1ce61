// box prune [-f]: remove every container that is not running, after collecting what crashed
// boxes left (cgroups, records of containers whose owner died). Asks first, as
// `docker container prune` does, unless -f.
import { parseCommand } from '../options/flags';
import { UsageError } from '../libc/errors';
import { prune as pruneContainers } from '../container/remove';
import { confirm } from './confirm';

export function prune(args: string[]): number {
  const { values: v, positionals } = parseCommand('prune', args, { force: { type: 'boolean', short: 'f' } }, true);
  if (positionals.length) throw new UsageError(`box prune: accepts no arguments (got "${positionals[0]}")`);
  if (!v.force && !confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ')) return 0;
  const gone = pruneContainers();
  for (const s of gone) process.stdout.write(`${s.id}\n`);
  process.stdout.write(`Total reclaimed: ${gone.length} container${gone.length === 1 ? '' : 's'}\n`);
  return 0;
}
