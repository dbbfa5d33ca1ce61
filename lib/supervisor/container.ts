// One detached container's life inside the supervisor (daemon.ts): it becomes the
// container's owner, runs it (lib/container/start.ts) with its output going to the
// json-file log, holds a created one until `box start`, records exit status and OOM, and
// tears down. Many of these run at once in the one supervisor process.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tty from 'node:tty';
import { Readable } from 'node:stream';
import { load, patch } from '../state/store';
import { processStart } from '../util/proc';
import { runContainer } from '../container/start';
import { teardown } from '../container/teardown';
import { startFifo } from '../container/supervisor';
import { openLog, containerEnds, readers, relay } from './logs';
import { StagePool } from '../container/pool';

export interface Identity { pid: number; start: string }

export async function superviseContainer(id: string, verb: 'run' | 'create', me: Identity, anchor: Identity | undefined, reply: (m: object) => void, pool?: StagePool): Promise<void> {
  const state = load(id);
  // a request sent again after a supervisor died with it: the record was collected meanwhile
  if (!state || state.status !== 'created') { reply({ error: `box: container ${id.slice(0, 12)} was removed before it started`, status: 125 }); return; }
  patch(state, { owner: me, supervised: true, anchor });
  let log: number | undefined;
  const ends: number[] = [];
  let status = 125;
  try {
    log = openLog(id);
    if (!state.spec.tty) ends.push(...containerEnds(id)); // with a terminal, the pty carries the output
    status = await runContainer(state, {
      stdio: state.spec.tty ? ['ignore', 'ignore', 'ignore'] : ['ignore', ends[0], ends[1]],
      detached: true,
      attach(_child, pty) {
        for (const fd of ends.splice(0)) fs.closeSync(fd); // the container holds them now
        const sources: [Readable, string][] = pty ? [[new tty.ReadStream(pty.master), 'stdout']] : readers(id);
        return relay(sources, log!);
      },
      beforeStart: verb === 'create' ? async () => {
        reply({ created: true });
        await waitForStart(startFifo(id));
      } : undefined,
      onSpawn: (child) => { state.pid = child.pid; state.pidStart = processStart(child.pid!); },
      onRunning: () => {
        if (verb === 'run') reply({ running: true });
        // kept on disk (exec loads the same program), not in memory: a compiled seccomp filter
        // is the bulk of a record, and this process holds one record per container it supervises
        delete state.seccomp;
      },
    }, pool?.take());
  } catch (e: any) {
    status = e.status ?? 125;
    reply({ error: e.message, status });
  } finally {
    for (const fd of ends) fs.closeSync(fd);
    if (log !== undefined) fs.closeSync(log);
    state.exitCode = status;
    teardown(state);
  }
}

/**
 * Wait until `box start` writes to the fifo. Opened O_RDWR|O_NONBLOCK (never blocks on
 * Linux) and read by the event loop: a plain open(O_RDONLY) would park a libuv pool
 * thread until a writer comes, and a process with such a thread cannot exit.
 */
function waitForStart(fifo: string): Promise<void> {
  return new Promise((resolve) => {
    const s = new net.Socket({ fd: fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK), readable: true, writable: false });
    s.once('data', () => { s.destroy(); fs.rmSync(fifo, { force: true }); resolve(); });
    s.on('error', () => { /* removed with the container */ });
    s.unref(); // the stage's exit, not this fifo, decides when the container ends
  });
}
