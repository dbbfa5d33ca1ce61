// box create [OPTIONS] IMAGE [COMMAND], box start: set the container up (namespaces, mounts, cgroups)
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

export const START_OPTIONS = { attach: { type: 'boolean', short: 'a' }, interactive: { type: 'boolean', short: 'i' } } as const;

/**
 * box start [-a] [-i] CONTAINER...: created ones, and exited ones again (same layer). With -a
 * (or -i) the output of the run that starts is printed and its exit status returned, as
 * Docker's; box's supervisor holds no stdin for a detached container, so -i attaches only the
 * output.
 */
export async function start(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('start', args, START_OPTIONS, true);
  if (!positionals.length) throw new BoxError('box start: requires at least 1 argument');
  if (!v.attach && !v.interactive) return forEachContainer(positionals, startCreated);
  if (positionals.length > 1) throw new BoxError('box start: you cannot start and attach multiple containers at once');
  const { get } = require('../container/query') as typeof import('../container/query');
  const { followRun, logSize } = require('../container/follow') as typeof import('../container/follow');
  const s = get(positionals[0]);
  const from = logSize(s.id);
  await startCreated(positionals[0]);
  // a start resets the restart count (Docker): counted from the record as the run began
  const now = require('../state/store').load(s.id);
  return followRun(s.id, from, now?.restartCount ?? 0);
}
