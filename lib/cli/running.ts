// Is a recorded container really running? Its owner (box run or its supervisor) and its
// PID 1 must both be alive: a record alone can outlive a crash.
import { ContainerState, ownerAlive } from '../state/store';
import { processStart } from '../util/proc';

export function running(s: ContainerState): boolean {
  return s.status === 'running' && !!s.pid && ownerAlive(s) && processStart(s.pid) !== undefined;
}
