// A restart policy carried out by the supervisor (container.ts for the containers it started,
// adopt.ts for those a dead predecessor left), as moby's restartmanager decides: `always`
// restarts after any exit, `unless-stopped` unless the user stopped it, `on-failure[:N]`
// after a non-zero exit, at most N times (0: no maximum); none after a stop, a kill with the
// stop signal or KILL, or an rm -f (the record's restartCancelled, lib/container/restart.ts).
// Backoff: 100 ms, doubled before each restart up to 1 min, back to 100 ms once a run lasted
// 10 s. The same container again: same id, name, writable layer, cgroups and log; a fresh
// stage, so fresh namespaces. While it waits the record says "restarting" (ps: Restarting).
import * as fs from 'node:fs';
import { load, patch, ContainerState } from '../state/store';
import { managerForDirs } from '../cgroup/manager';
import type { RestartPolicy } from '../options/restart';

export const BACKOFF_FIRST_MS = 100;
export const BACKOFF_MAX_MS = 60000;
export const BACKOFF_RESET_AFTER_MS = 10000;
const POLL_MS = 100;

/** Docker's ShouldRestart, without the timing. */
export function shouldRestart(p: RestartPolicy | undefined, exitCode: number, s: Pick<ContainerState, 'restartCount' | 'manuallyStopped' | 'restartCancelled'>): boolean {
  if (!p || p.name === 'no' || s.restartCancelled) return false;
  if (p.name === 'always') return true;
  if (p.name === 'unless-stopped') return !s.manuallyStopped;
  const max = p.maximumRetryCount;
  return exitCode !== 0 && (max === 0 || (s.restartCount ?? 0) < max);
}

/** The next backoff: doubled, capped; the first again after a run of 10 s or more. */
export function nextBackoff(prevMs: number, ranMs: number): number {
  if (ranMs >= BACKOFF_RESET_AFTER_MS || prevMs <= 0) return BACKOFF_FIRST_MS;
  return Math.min(prevMs * 2, BACKOFF_MAX_MS);
}

/**
 * After PID 1 exited with `status`: restart as long as the policy says, each time after its
 * backoff; the final exit status (then the caller tears down). `runAgain` runs the container
 * once more (throws if its setup fails: that ends the loop, as Docker records a failed
 * restart and stops). `waiting`: the record already says restarting (a supervisor died in
 * its backoff): the decision was made and counted, only the wait is left.
 */
export async function keepRestarting(state: ContainerState, status: number, runAgain: () => Promise<number>, waiting = false): Promise<number> {
  let backoff = 0;
  for (;;) {
    const now = load(state.id);
    if (!now) return status; // removed (rm -f)
    if (!waiting) {
      if (!shouldRestart(now.spec.restart, status, now)) return status;
      const ran = state.startedAt ? Date.now() - Date.parse(state.startedAt) : 0;
      backoff = nextBackoff(backoff, ran);
    } else {
      backoff = BACKOFF_FIRST_MS;
    }
    // what the run left (an exec'd process outside PID 1's namespace would be one): nothing
    // of it may meet the next run; the cgroups themselves stay, with their limits
    const cg = managerForDirs(state.cgroups);
    try { if (cg.pids().length) cg.killAll(); } catch { /* gone */ }
    if (!waiting) {
      patch(state, { status: 'restarting', pid: 0, exitCode: status, finishedAt: new Date().toISOString(), restartCount: (now.restartCount ?? 0) + 1, oomKilled: state.oomKilled });
    }
    waiting = false;
    closeNamespaces(state);
    if (!(await waitOut(state.id, backoff))) return status;
    const fresh = load(state.id);
    if (!fresh) return status;
    state.seccomp = fresh.seccomp; // the supervisor keeps it on disk between runs, not in memory
    state.oomKilled = false;
    if (state.rootfs.work) fs.mkdirSync(state.rootfs.work, { recursive: true });
    // the cgroup's OOM count is cumulative: this run's OOM is what it adds (runContainer reads the total)
    let oomBefore = 0;
    try { oomBefore = cg.stats().oomKills; } catch { /* no memory controller */ }
    try {
      status = await runAgain();
      try { state.oomKilled = cg.stats().oomKills > oomBefore; } catch { /* as runContainer said */ }
    } catch (e: any) {
      process.stderr.write(`box-supervisor: restarting ${state.id.slice(0, 12)} failed: ${e.message}\n`); // the supervisor's log
      return e.status ?? 125;
    }
  }
}

/** Sleep the backoff, watching the record: false if the restart was called off or the container removed meanwhile. */
async function waitOut(id: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    const s = load(id);
    if (!s || s.restartCancelled || s.status !== 'restarting') return false;
    const left = end - Date.now();
    if (left <= 0) return true;
    await new Promise((r) => setTimeout(r, Math.min(left, POLL_MS)));
  }
}

/** The previous run's namespace fds (exec's): its namespaces are gone, and the fds must not pile up. */
function closeNamespaces(state: ContainerState) {
  for (const fd of Object.values(state.namespaceFds ?? {})) { try { fs.closeSync(fd); } catch { /* closed */ } }
  state.namespaceFds = undefined;
}
