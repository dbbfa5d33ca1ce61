// box restart [-t SECS] CONTAINER...: stop (the stop signal, SECS — else the container's
// --stop-timeout — then SIGKILL), then start again on the same writable layer; running and
// exited containers alike. Prints each name as given, as Docker.
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { stop } from '../container/kill';
import { startCreated } from '../container/supervisor';
import { forEachContainer } from './each';

export function restart(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('restart', args, { time: { type: 'string', short: 't' } }, true);
  if (!positionals.length) throw new BoxError('box restart: requires at least 1 argument');
  const timeout = v.time !== undefined ? Number(v.time) : undefined;
  if (timeout !== undefined && !Number.isInteger(timeout)) throw new BoxError(`box restart: invalid --time "${v.time}"`);
  return forEachContainer(positionals, async (ref) => {
    await stop(ref, { timeout });
    await startCreated(ref);
  });
}
