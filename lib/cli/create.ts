// box create [OPTIONS] IMAGE [COMMAND]: set the container up (namespaces, mounts, cgroups)
// and stop just before execve; box start runs it. The same stage as run: setup and start
// are separate steps, and a supervisor holds the container in between.
import * as fs from 'node:fs';
import { parseRun } from '../options/run';
import { createContainer } from '../container/create';
import { detach, startFifo } from '../container/supervisor';
import { parseCommand } from '../options/flags';
import { find, load, ownerAlive } from '../state/store';
import { BoxError } from '../libc/errors';
import { forEachContainer } from './each';
import { sleepMs } from '../cgroup/manager';
import { running } from './running';

export async function create(args: string[]): Promise<number> {
  const req = parseRun(args);
  if (req.help) { process.stdout.write('Usage:  box create [OPTIONS] IMAGE [COMMAND] [ARG...]\n(the options of box run)\n'); return 0; }
  const state = createContainer(req, 'create', (w) => process.stderr.write(`WARNING: ${w}\n`));
  return detach(state, 'create');
}

export function start(args: string[]): number {
  const { positionals } = parseCommand('start', args, {}, true);
  if (!positionals.length) throw new BoxError('box start: requires at least 1 argument');
  return forEachContainer(positionals, (ref) => {
    const s = find(ref);
    if (running(s)) return; // already running: Docker just names it
    const fifo = startFifo(s.id);
    if (s.status !== 'created' || !ownerAlive(s) || !fs.existsSync(fifo)) throw new BoxError(`box start: container ${ref} cannot be started: it is ${s.status === 'created' ? 'not held by a supervisor' : s.status} (box start runs containers made by box create)`);
    const fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(fd, 'start\n');
    fs.closeSync(fd);
    const end = Date.now() + 10000;
    for (;;) {
      const now = load(s.id);
      if (!now || now.status !== 'created') break;
      if (Date.now() > end) throw new BoxError(`box start: container ${ref} did not start`);
      sleepMs(10);
    }
  });
}
