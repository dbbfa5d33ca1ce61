// box pause CONTAINER...   box unpause CONTAINER...: freeze and thaw every process of a
// container with the cgroup freezer (lib/container/pause.ts).
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { pause as pauseContainer, resume } from '../container/pause';
import { forEachContainer } from './each';

export function pause(args: string[]): Promise<number> {
  const { positionals } = parseCommand('pause', args, {}, true);
  if (!positionals.length) throw new BoxError('box pause: requires at least 1 argument');
  return forEachContainer(positionals, pauseContainer);
}

export function unpause(args: string[]): Promise<number> {
  const { positionals } = parseCommand('unpause', args, {}, true);
  if (!positionals.length) throw new BoxError('box unpause: requires at least 1 argument');
  return forEachContainer(positionals, resume);
}
