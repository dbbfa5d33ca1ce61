// Adopting a detached container whose supervisor died (daemon.ts, at start): it is not
// our child — its parent is now the dead supervisor's anchor — so we cannot wait(2) for
// it. We become its owner, reopen its output FIFOs, hold fds on its namespaces again (for
// `box exec`), and watch /proc for its exit: the anchor never reaps, so PID 1 stays a
// zombie whose wait status /proc/PID/stat shows (lib/util/proc.ts zombieStatus). Then the
// same end as a container we spawned: OOM record, output drained, its restart policy
// (restart.ts: the runs after that are ours, our children), teardown. A container whose
// supervisor died while it waited out a restart's backoff ("restarting") is restarted here.
import * as fs from 'node:fs';
import { load, patch, orphaned, ContainerState } from '../state/store';
import { withContainerLock } from '../state/lock';
import { readStat, zombieStatus } from '../util/proc';
import { managerForDirs } from '../cgroup/manager';
import { teardown } from '../container/teardown';
import { Stage } from '../container/stage';
import { openLog, readers, relay } from './logs';
import { Identity, runDetached } from './container';
import { keepRestarting } from './restart';
import { reattachView } from '../procview/reattach';
import { releaseView } from '../procview/host';

const POLL_MS = 200;

export async function adopt(id: string, me: Identity, anchor?: Identity): Promise<void> {
  const state = withContainerLock(id, () => {
    const s = load(id);
    if (!s || !orphaned(s)) return undefined; // exited meanwhile (collection records it) or adopted by another
    const namespaceFds = s.status === 'running' ? reopenNamespaces(s) : {};
    patch(s, { owner: me, namespaceFds }); // its anchor holds its exit status until we read it
    return s;
  });
  if (!state) return;
  let status = state.exitCode ?? 137;
  // its /proc view died with the dead supervisor (reads fail with ENOTCONN): mounted afresh, served here
  if (state.procView && state.status === 'running') {
    const say = (l: string) => process.stderr.write(`box-supervisor: ${l}\n`); // the supervisor's log
    void reattachView(state, say).then((why) => why && say(`procview: ${id.slice(0, 12)}: not reattached: ${why}`), (e) => say(`procview: ${id.slice(0, 12)}: not reattached: ${e.message}`));
  }
  try {
    const waiting = state.status === 'restarting';
    if (waiting) {
      // the dead supervisor may have been setting the next run up: nothing of it may stay
      const cg = managerForDirs(state.cgroups);
      if (cg.pids().length) cg.killAll();
    } else {
      status = await endOf(state);
    }
    // a run started here is our child: our anchor's (the old one may go once nothing names it)
    const again = () => { patch(state, { anchor }); return runDetached(state, 'restart', () => {}); };
    status = await keepRestarting(state, status, again, waiting);
  } finally {
    state.exitCode = status;
    releaseView(state.id);
    for (const fd of Object.values(state.namespaceFds ?? {})) { try { fs.closeSync(fd); } catch { /* closed */ } }
    teardown(state);
  }
}

/** The adopted run's end: its exit status, OOM, the output it left in the FIFOs. */
async function endOf(state: ContainerState): Promise<number> {
  const log = openLog(state.id);
  const relays = relay(readers(state.id), log);
  try {
    const status = await exitOf(state);
    if (managerForDirs(state.cgroups).stats().oomKills > 0) state.oomKilled = true;
    await Stage.drain(relays);
    return status;
  } finally {
    fs.closeSync(log);
  }
}

/** Our own fds on PID 1's namespaces, each checked against the inode recorded at start. */
function reopenNamespaces(s: ContainerState): Record<string, number> {
  const fds: Record<string, number> = {};
  for (const [n, ino] of Object.entries(s.namespaces ?? {})) {
    try {
      const fd = fs.openSync(`/proc/${s.pid}/ns/${n}`, 'r');
      if (fs.fstatSync(fd).ino === ino) fds[n] = fd; else fs.closeSync(fd);
    } catch { /* exec falls back to PID 1's own */ }
  }
  return fds;
}

/** PID 1's exit status, once it is a zombie; 137 if someone else reaped it first (an anchor killed by hand). */
async function exitOf(s: ContainerState): Promise<number> {
  for (;;) {
    const st = readStat(s.pid!);
    if (!st || st.starttime !== s.pidStart) return 137;
    if (st.state === 'Z') return zombieStatus(s.pid!, s.pidStart) ?? 137;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
