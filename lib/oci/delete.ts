// `delete [--force] ID`: a stopped (or, with --force, any) container's traces removed: its
// processes killed through the cgroup (frozen first, so nothing forks past the kill), the
// cgroup directory box made, the state directory; then the poststop hooks. The engine's
// monitor has reaped the init; whatever else was in the pid namespace died with it.
import { cgroupManagerAt } from '../cgroup/manager';
import { signalProcess } from '../util/proc';
import { OciStore, status, stateJson } from './state';
import { runHooks } from './hooks';
import { OciError } from './errors';

export function ociDelete(store: OciStore, id: string, force: boolean, warn: (w: string) => void) {
  let r;
  try {
    r = store.load(id);
  } catch (e: any) {
    // runc: `delete --force` of a container that does not exist succeeds (engines retry deletes)
    if (force && e.code === 'not-found') return;
    throw e;
  }
  const s = status(store, r);
  if (s !== 'stopped' && s !== 'created' && !force) throw new OciError(`cannot delete container ${id} that is not stopped: ${s}`, 'state');
  const cg = cgroupManagerAt(r.cgroupPath, undefined, { keepParent: true });
  if (s !== 'stopped') {
    signalProcess(r.pid, r.pidStart, 'SIGKILL');
    try { cg.killAll(); } catch (e: any) { warn(e.message); }
  }
  try {
    if (r.ownsCgroup) cg.destroy(5000);
  } catch (e: any) {
    throw new OciError(`delete ${id}: ${e.message}`);
  }
  store.remove(id);
  try {
    runHooks(r.hooks.poststop, JSON.stringify(stateJson(store, r, 'stopped')), 'poststop');
  } catch (e: any) {
    warn(e.message); // the spec: a failing poststop hook is logged, the delete stands
  }
}
