// box rm [-f] CONTAINER...: removes stopped containers (a running one only with -f).
import { parseCommand } from '../spec/flags';
import { find, removeRecord, ownerAlive } from '../state/store';
import { collect } from '../state/collect';
import { BoxError } from '../libc/errors';
import { killAll, destroyCgroups } from '../cgroup/manager';

export function rm(args: string[]): number {
  const { values: v, positionals } = parseCommand('rm', args, { force: { type: 'boolean', short: 'f' } }, true);
  if (!positionals.length) throw new BoxError('box rm: requires at least 1 argument');
  collect();
  let status = 0;
  for (const ref of positionals) {
    try {
      const s = find(ref);
      if (s.status === 'running' && ownerAlive(s)) {
        if (!v.force) throw new BoxError(`box: cannot remove container "${ref}": container is running: stop the container before removing or force remove`);
        killAll(s.cgroups);
        if (s.pid) try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
        destroyCgroups(s.cgroups);
      }
      removeRecord(s);
      process.stdout.write(ref + '\n');
    } catch (e: any) {
      process.stderr.write(`${e.message}\n`);
      status = 1;
    }
  }
  return status;
}
