// box create [OPTIONS] IMAGE [COMMAND]: set the container up (namespaces, mounts, cgroups)
// and stop just before execve; box start runs it. The same stage as run: setup and start
// are separate steps, and a supervisor holds the container in between.
import { parseRun } from '../options/run';
import { parseCommand, HelpRequested } from '../options/flags';
import { BoxError } from '../libc/errors';
import { createContainer } from '../container/create';
import { detach, startCreated } from '../container/supervisor';
import { forEachContainer } from './each';
import { claimCidfile, withCidfile } from './cidfile';

export async function create(args: string[]): Promise<number> {
  let req;
  try { req = parseRun(args); } catch (e) { throw e instanceof HelpRequested ? new HelpRequested('create', e.options) : e; }
  const cid = claimCidfile(req.cidfile, 'create');
  const state = withCidfile(cid, () => createContainer(req, 'create', (w) => process.stderr.write(`WARNING: ${w}\n`)));
  await detach(state, 'create');
  process.stdout.write(`${state.id}\n`);
  return 0;
}

export function start(args: string[]): Promise<number> {
  const { positionals } = parseCommand('start', args, {}, true);
  if (!positionals.length) throw new BoxError('box start: requires at least 1 argument');
  return forEachContainer(positionals, startCreated);
}
