// The user's side of a restart policy (the supervisor's is lib/supervisor/restart.ts): what
// `stop`, `kill` and `rm -f` tell the supervisor through the record before they signal, as
// Docker's daemon does (killWithSignal: HasBeenManuallyStopped, and ExitOnNext, which cancels
// the restart manager), and `box restart`.
import { update, load, ownerAlive, ContainerState } from '../state/store';
import { waitFor } from './query';

/**
 * Before a stop, a kill or a forced rm: "manually stopped" (unless-stopped then does not
 * restart), and with `cancel` the next exit is final whatever the policy. Docker cancels on
 * SIGKILL, on the container's stop signal, and on any signal when no stop signal was set
 * (box records SIGTERM, Docker's default, for "none set").
 */
export function markStopped(id: string, cancel: boolean) {
  update(id, (s) => {
    if (!s.spec.restart || (s.manuallyStopped && (!cancel || s.restartCancelled))) return false;
    s.manuallyStopped = true;
    if (cancel) s.restartCancelled = true;
  });
}

export function killCancels(s: ContainerState, sig: number, stopSignal: number): boolean {
  return sig === 9 || s.spec.stopSignal === 'SIGTERM' || sig === stopSignal;
}

/** A container waiting out its backoff, with a live supervisor. */
export function restarting(s: ContainerState | undefined): boolean {
  return !!s && s.status === 'restarting' && ownerAlive(s);
}

/**
 * A restarting container told to stop for good: its supervisor notices within its poll
 * (~100 ms) and records it exited — or it was just being set up again, and then it runs:
 * the record as it then is, for the caller to stop as a running one.
 */
export async function settleRestarting(s: ContainerState): Promise<ContainerState | undefined> {
  markStopped(s.id, true);
  await waitFor(s.id, (now) => !restarting(now), 10000);
  return load(s.id);
}
