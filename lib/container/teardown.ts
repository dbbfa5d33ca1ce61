// Leave nothing behind: processes, cgroups, the writable layer (unless the container is
// kept), the record. Every mount died with the container's mount namespace.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { patch, removeRecord, ContainerState } from '../state/store';
import { containerDir } from '../state/paths';
import { managerForDirs } from '../cgroup/manager';
import { removeAnonymousVolumes } from './volumes';

export function teardown(state: ContainerState, warn: (w: string) => void = () => {}) {
  try {
    const cg = managerForDirs(state.cgroups);
    // Usually empty by now (PID 1 exited and was reaped): then rmdir just works, and nothing is
    // read or frozen first. Nothing inside can fork once it is empty; what is left (an exec
    // that joined meanwhile, processes of a pid namespace still dying) makes rmdir fail with
    // EBUSY, and destroy() freezes, kills and retries.
    cg.destroy();
  } catch (e: any) {
    warn(e.message);
  }
  if (state.spec.rm || !state.startedAt) {
    removeRecord(state); // --rm, or it never ran: nothing worth keeping
    if (state.spec.rm) removeAnonymousVolumes(state); // Docker's --rm takes them too (a plain rm only with -v)
    return;
  }
  fs.rmSync(path.join(containerDir(state.id), 'work'), { recursive: true, force: true });
  patch(state, { status: 'exited', finishedAt: new Date().toISOString(), pid: 0, paused: false, exitCode: state.exitCode, oomKilled: state.oomKilled });
}
