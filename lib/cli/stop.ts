// box stop [-t N] [-s SIGNAL] CONTAINER...   box kill [-s SIGNAL] CONTAINER...   box wait CONTAINER...
// stop: the container's stop signal to PID 1, wait N seconds (its --stop-timeout, else
// 10), then SIGKILL; returns once box has recorded the exit. kill: one signal, default KILL.
// wait: block until each has exited, print its exit code.
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { stop as stopContainer, kill as killContainer, wait as waitContainer, parseSignal } from '../container/kill';
import { forEachContainer } from './each';

export function stop(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('stop', args, { time: { type: 'string', short: 't' }, signal: { type: 'string', short: 's' } }, true);
  if (!positionals.length) throw new BoxError('box stop: requires at least 1 argument');
  const timeout = v.time !== undefined ? Number(v.time) : undefined;
  if (timeout !== undefined && !Number.isFinite(timeout)) throw new BoxError(`box stop: invalid --time "${v.time}"`);
  if (v.signal !== undefined) parseSignal(v.signal);
  return forEachContainer(positionals, (ref) => stopContainer(ref, { timeout, signal: v.signal }));
}

export function kill(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('kill', args, { signal: { type: 'string', short: 's' } }, true);
  if (!positionals.length) throw new BoxError('box kill: requires at least 1 argument');
  const sig = parseSignal(v.signal ?? 'SIGKILL');
  return forEachContainer(positionals, (ref) => killContainer(ref, sig));
}

export async function wait(args: string[]): Promise<number> {
  const { positionals } = parseCommand('wait', args, {}, true);
  if (!positionals.length) throw new BoxError('box wait: requires at least 1 argument');
  let status = 0;
  for (const ref of positionals) {
    try {
      process.stdout.write(`${await waitContainer(ref)}\n`);
    } catch (e: any) {
      process.stderr.write(`${e.message}\n`);
      status = 1;
    }
  }
  return status;
}
