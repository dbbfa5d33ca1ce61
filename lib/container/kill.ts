// Signals to a container: `kill` sends one to PID 1; `stop` sends the stop signal, waits,
// then SIGKILL, and returns once the owner recorded the exit. A signal goes only to the
// process recorded as PID 1 — same pid and start time — never to a pid reused since.
import { ContainerState } from '../state/store';
import { signalProcess } from '../util/proc';
import { signalNumber } from '../util/signals';
import { managerForDirs } from '../cgroup/manager';
import { setPaused } from './pause';
import { ContainerError } from './errors';
import { get, isRunning, waitFor, ended } from './query';
import { markStopped, killCancels, restarting, settleRestarting } from './restart';

export function parseSignal(sig: string): number {
  const n = signalNumber(sig);
  if (!n) throw new ContainerError('invalid', `box: invalid signal: ${sig}`);
  return n;
}

/** Signal PID 1 if it still is the recorded process; false when it is gone. */
export function signalPid1(s: ContainerState, sig: number): boolean {
  if (!s.pid || !signalProcess(s.pid, s.pidStart, sig)) return false;
  // a frozen container would hold the signal until `unpause`: Docker delivers it, so thaw
  if (s.paused) { managerForDirs(s.cgroups).thaw(); setPaused(s.id, false); }
  return true;
}

export async function kill(ref: string, signal: string | number = 'SIGKILL'): Promise<void> {
  const sig = typeof signal === 'number' ? signal : parseSignal(signal);
  const s = get(ref);
  const stopSig = parseSignal(s.spec.stopSignal ?? 'SIGTERM');
  // Docker: a restarting container has no process to signal; the restart is called off
  if (restarting(s)) return markStopped(s.id, killCancels(s, sig, stopSig));
  if (!isRunning(s)) throw new ContainerError('not-running', `box: cannot kill container: ${ref}: container is not running`);
  markStopped(s.id, killCancels(s, sig, stopSig));
  signalPid1(s, sig);
  if (sig === 9) await waitFor(s.id, ended, 10000);
}

/** The stop signal (the container's own unless given), `timeout` seconds (its --stop-timeout, else 10), then SIGKILL. */
export async function stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
  let s: ContainerState | undefined = get(ref);
  if (restarting(s)) s = await settleRestarting(s); // called off; or it was just starting again: stopped below
  if (!s || !isRunning(s)) return; // Docker: stopping a stopped container is not an error
  markStopped(s.id, true);
  const secs = opts.timeout ?? s.spec.stopTimeout ?? 10;
  signalPid1(s, parseSignal(opts.signal ?? s.spec.stopSignal ?? 'SIGTERM'));
  if (await waitFor(s.id, ended, Math.max(0, secs) * 1000)) return;
  signalPid1(s, 9);
  await waitFor(s.id, ended, 10000);
}

/** Block until the container has run and exited (a created one is waited for through its start); its exit code, as Docker's `wait`. */
export async function wait(ref: string): Promise<number> {
  const s = get(ref);
  let last: ContainerState = s;
  await waitFor(s.id, (now) => { if (now) last = now; return ended(now); }, Infinity); // gone (--rm): the last record seen is all there is
  return last.exitCode ?? 137; // an owner that died recorded nothing: collection's 137
}

