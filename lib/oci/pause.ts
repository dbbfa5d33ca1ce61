// `pause` / `resume`: the cgroup freezer over every process of the container (v1 freezer.state,
// v2 cgroup.freeze), through the same manager `box pause` uses.
import { cgroupManagerAt } from '../cgroup/manager';
import { OciStore, status } from './state';
import { OciError } from './errors';

export function ociPause(store: OciStore, id: string, freeze: boolean) {
  const r = store.load(id);
  const s = status(store, r);
  if (freeze && s !== 'running') throw new OciError(`container not running: ${id} is ${s}`, 'state');
  if (!freeze && s !== 'paused') throw new OciError(`container not paused: ${id} is ${s}`, 'state');
  const cg = cgroupManagerAt(r.cgroupPath, undefined, { keepParent: true });
  try {
    if (freeze) cg.freeze(); else cg.thaw();
  } catch (e: any) {
    throw new OciError(e.message);
  }
}
