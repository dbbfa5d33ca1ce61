// An attached `box run` through the supervisor's warm pool (the client is lib/cli/run.ts,
// via client.ts runAttached): the client made the container (record, layer, cgroups) and
// handed over its own stdio fds; the supervisor runs it on a pre-booted stage with those
// fds as the container's 0–2 — so no relay is needed — or, with -t, passes the pty master
// back for the client to relay the user's terminal. The client waits for {exit}; if it
// dies first, the container is killed and torn down here, as its parent-death signal
// would have done on the cold path.
import * as fs from 'node:fs';
import { StdioOptions } from 'node:child_process';
import { load, patch } from '../state/store';
import { processStart, signalProcess } from '../util/proc';
import { runContainer } from '../container/start';
import { teardown } from '../container/teardown';
import { StagePool } from '../container/pool';
import { Identity } from './container';

export type Send = (m: object, fds?: number[]) => void;

/** `fds`: the client's, for the container's fds `targets` (the others get /dev/null). */
export async function runAttached(id: string, targets: number[], fds: number[], me: Identity, pool: StagePool | undefined, send: Send, clientGone: Promise<void>): Promise<void> {
  const state = load(id);
  try {
    // a created container a client made and still owns — not one this supervisor holds for `box start`
    if (!state || state.status !== 'created' || state.owner.pid === me.pid || targets.length !== fds.length) { send({ error: `box: container ${id.slice(0, 12)} cannot be run here`, status: 125 }); return; }
    patch(state, { owner: me });
    const stdio: StdioOptions = ['ignore', 'ignore', 'ignore'];
    if (!state.spec.tty) targets.forEach((t, i) => { if (t >= 0 && t <= 2) stdio[t] = fds[i]; });
    let pid: number | undefined;
    let ended = false, abandoned = false;
    // the client went away (SIGKILLed, its terminal closed) — before its stage was even
    // spawned, or while the container runs: the container goes too
    const end = () => { if (abandoned && !ended && pid) signalProcess(pid, processStart(pid), 9); };
    clientGone.then(() => { abandoned = true; end(); });
    let status = 125;
    try {
      status = await runContainer(state, {
        stdio,
        onSpawn: (child) => { pid = child.pid; end(); },
        attach(child, pty) {
          end();
          // the client's fds are the container's now; with a terminal it relays the master itself
          send({ attached: true, pid: child.pid }, pty ? [pty.master] : []);
          if (pty) fs.closeSync(pty.master);
          return [];
        },
      }, pool?.take());
    } catch (e: any) {
      status = e.status ?? 125;
      send({ error: e.message, status });
    } finally {
      ended = true;
      state.exitCode = status;
      teardown(state);
    }
    send({ exit: status });
  } finally {
    for (const fd of fds) { try { fs.closeSync(fd); } catch { /* closed */ } }
  }
}
