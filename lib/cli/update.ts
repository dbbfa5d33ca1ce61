// box update [--cpus N] [-m BYTES] [--pids-limit N] … CONTAINER...: Docker's limit flags,
// checked as `run` checks them, written to the running containers' cgroups.
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { RESOURCE_OPTIONS, parseResources, hostCpus } from '../options/resources';
import { update as updateContainer } from '../container/update';
import { forEachContainer } from './each';

export function update(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('update', args, RESOURCE_OPTIONS, true);
  if (!positionals.length) throw new BoxError('box update: requires at least 1 argument');
  const given = Object.keys(v).filter((k) => (v as any)[k] !== undefined);
  if (!given.length) throw new BoxError('box update: you must provide one or more flags when using this command');
  const host = hostCpus();
  const changes = parseResources(v as Record<string, string | undefined>, host.ncpu, host);
  return forEachContainer(positionals, (ref) => {
    for (const w of updateContainer(ref, changes)) process.stderr.write(`WARNING: ${w}\n`);
  });
}
