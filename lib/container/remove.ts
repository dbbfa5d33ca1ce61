// Removing a container: a stopped or created one at once; a running one only with force,
// which kills it and lets its owner (box run or the supervisor) tear down — or tears down
// itself when the owner is gone too. Then the record and the name go.
import { load, list, removeRecord, ownerAlive, ContainerState } from '../state/store';
import { collectAndAdopt } from '../supervisor/orphans';
import { managerForDirs } from '../cgroup/manager';
import { ContainerError } from './errors';
import { get, isRunning, waitFor, ended } from './query';
import { signalPid1 } from './kill';
import { markStopped, restarting, settleRestarting } from './restart';
import { removeAnonymousVolumes } from './volumes';

export async function remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  collectAndAdopt();
  let s = get(ref);
  if (restarting(s)) {
    if (!opts.force) throw new ContainerError('conflict', `box: cannot remove container "${ref}": You cannot remove a restarting container ${s.id}. Stop the container before attempting removal or force remove`);
    s = (await settleRestarting(s)) ?? s;
  }
  const live = isRunning(s) || (s.status === 'created' && ownerAlive(s));
  if (live) {
    if (s.status === 'running' && !opts.force) throw new ContainerError('conflict', `box: cannot remove container "${ref}": container is running: stop the container before removing or force remove`);
    markStopped(s.id, true); // its exit is final, whatever its restart policy
    signalPid1(s, 9); // a created container's stage may not be in its cgroups yet (limits bind at start)
    const cg = managerForDirs(s.cgroups);
    cg.killAll();
    await waitFor(s.id, ended, 10000); // its owner tears down (a shared supervisor lives on: the record says when)
    cg.destroy();
  }
  const now = load(s.id);
  if (now) removeRecord(now);
  if (opts.volumes) removeAnonymousVolumes(now ?? s); // rm -v: Docker's anonymous volumes
}

/** Remove every container that is not running or created; the ids removed (Docker's `container prune`). */
export function prune(): ContainerState[] {
  collectAndAdopt();
  const gone = list().filter((s) => s.status !== 'created' && !isRunning(s) && !restarting(s)); // restarting: Docker counts it running
  for (const s of gone) removeRecord(s);
  return gone;
}

