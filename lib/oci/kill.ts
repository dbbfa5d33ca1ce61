// `kill ID [SIGNAL]`: the signal as a name (TERM, SIGTERM) or a number (engines send
// numbers: 15, 9, 10), to the init only — through a pidfd, and only if the PID is still the
// recorded process — or with --all to every process of the container's cgroup.
import { parseSignal } from '../container/kill';
import { signalProcess } from '../util/proc';
import { cgroupManagerAt } from '../cgroup/manager';
import { OciStore, status } from './state';
import { OciError } from './errors';

export function ociKill(store: OciStore, id: string, signal: string | undefined, all: boolean) {
  const r = store.load(id);
  let sig: number;
  try {
    sig = parseSignal(signal ?? 'SIGTERM');
  } catch {
    throw new OciError(`invalid signal: ${signal}`);
  }
  const s = status(store, r);
  if (s === 'stopped') throw new OciError('container not running', 'state');
  const cg = cgroupManagerAt(r.cgroupPath, undefined, { keepParent: true });
  if (all) {
    for (const pid of cg.pids()) try { process.kill(pid, sig); } catch { /* exited meanwhile */ }
  } else if (!signalProcess(r.pid, r.pidStart, sig)) {
    throw new OciError('container not running', 'state');
  }
  // a frozen task holds even SIGKILL until thawed (v1 freezer): thaw, as runc does for a kill
  if (s === 'paused' && sig === 9) cg.thaw();
}
