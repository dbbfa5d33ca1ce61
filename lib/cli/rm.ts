// box rm [-f] CONTAINER...: removes stopped (or created) containers; a running one only
// with -f, which kills it and lets its owner (box run or the supervisor) tear it down.
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { remove } from '../container/remove';
import { forEachContainer } from './each';

export function rm(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('rm', args, { force: { type: 'boolean', short: 'f' }, volumes: { type: 'boolean', short: 'v' } }, true);
  if (!positionals.length) throw new BoxError('box rm: requires at least 1 argument');
  return forEachContainer(positionals, (ref) => remove(ref, { force: !!v.force, volumes: !!v.volumes }));
}
