// box rm [-f] CONTAINER...: removes stopped (or created) containers; a running one only
// with -f, which kills it and lets its owner (box run or the supervisor) tear it down.
import { parseCommand } from '../options/flags';
import { find, removeRecord, ownerAlive, load } from '../state/store';
import { collect } from '../state/collect';
import { BoxError } from '../libc/errors';
import { forEachContainer } from './each';
import { killAll, destroyCgroups, sleepMs } from '../cgroup/manager';
import { running } from './running';
import { signalProcess } from '../util/proc';

export function rm(args: string[]): number {
  const { values: v, positionals } = parseCommand('rm', args, { force: { type: 'boolean', short: 'f' } }, true);
  if (!positionals.length) throw new BoxError('box rm: requires at least 1 argument');
  collect();
  return forEachContainer(positionals, (ref) => {
    const s = find(ref);
    const live = running(s) || (s.status === 'created' && ownerAlive(s));
    if (live) {
      if (s.status === 'running' && !v.force) throw new BoxError(`box: cannot remove container "${ref}": container is running: stop the container before removing or force remove`);
      if (s.pid) signalProcess(s.pid, s.pidStart, 'SIGKILL'); // the cgroup kill below gets the rest
      killAll(s.cgroups);
      const end = Date.now() + 10000;
      while (Date.now() < end && load(s.id) && ownerAlive(load(s.id)!)) sleepMs(20); // its owner tears down
      destroyCgroups(s.cgroups);
    }
    const now = load(s.id);
    if (now) removeRecord(now);
  });
}
