// One detached container's life inside the supervisor (daemon.ts): it becomes the
// container's owner, runs it (lib/container/start.ts) with its output going to the
// json-file log, holds a created one until `box start`, restarts it as its policy says
// (restart.ts), records exit status and OOM, and tears down. Many of these run at once in
// the one supervisor process. `box start` of an exited container comes here too (verb
// 'start'): its cgroups are made again and it runs on its own writable layer.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tty from 'node:tty';
import * as path from 'node:path';
import { containerDir } from '../state/paths';
import { Readable } from 'node:stream';
import { load, patch, ContainerState } from '../state/store';
import { withContainerLock } from '../state/lock';
import { processStart } from '../util/proc';
import { runContainer } from '../container/start';
import { teardown } from '../container/teardown';
import { startFifo } from '../container/supervisor';
import { cgroupManager } from '../cgroup/manager';
import { openLog, containerEnds, readers, relay } from './logs';
import { StagePool } from '../container/pool';
import { keepRestarting } from './restart';
import { containerStdin, terminalOpened, terminalClosed, exited } from './attach';
import * as libc from '../libc';

export interface Identity { pid: number; start: string }
export type Verb = 'run' | 'create' | 'start';

export async function superviseContainer(id: string, verb: Verb, me: Identity, anchor: Identity | undefined, reply: (m: object) => void, pool?: StagePool): Promise<void> {
  const state = verb === 'start' ? takeExited(id, me, reply) : load(id);
  if (!state) return;
  // a request sent again after a supervisor died with it: the record was collected meanwhile
  if (state.status !== 'created') { reply({ error: `box: container ${id.slice(0, 12)} was removed before it started`, status: 125 }); return; }
  patch(state, { owner: me, supervised: true, anchor });
  let status = 125;
  try {
    if (verb === 'start') remake(state);
    status = await runDetached(state, verb === 'create' ? 'create' : 'run', reply, pool);
    status = await keepRestarting(state, status, () => runDetached(state, 'restart', () => {}));
  } catch (e: any) {
    status = e.status ?? 125;
    reply({ error: e.message, status });
  } finally {
    state.exitCode = status;
    closeNamespaceFds(state);
    teardown(state);
  }
}

/**
 * Run the container once, its output appended to its log; its exit status. `create`: held
 * set up until `box start`; `run`: the client is told once it runs; `restart`: by the policy,
 * nobody waits. A restart takes no pooled stage: a cold one costs ~100 ms more, and a restart
 * loop then cannot drain the pool that attached runs use.
 */
export async function runDetached(state: ContainerState, verb: 'run' | 'create' | 'restart', reply: (m: object) => void, pool?: StagePool): Promise<number> {
  const { id } = state;
  const log = openLog(id);
  const ends: number[] = [];
  try {
    if (!state.spec.tty) {
      // a run before this one left its FIFOs (logs.ts names them): nothing holds them now
      if (verb === 'restart' || state.startedAt) for (const f of ['stdout.fifo', 'stderr.fifo']) fs.rmSync(path.join(containerDir(id), f), { force: true });
      ends.push(...containerEnds(id)); // with a terminal, the pty carries the output
      // -i: a stdin `box attach` writes into (attach.ts); without, /dev/null as before
      if (state.spec.stdin) ends.unshift(containerStdin(id));
    }
    const status = await runContainer(state, {
      stdio: state.spec.tty ? ['ignore', 'ignore', 'ignore'] : state.spec.stdin ? ends.slice() : ['ignore', ends[0], ends[1]],
      detached: true,
      attach(_child, pty) {
        for (const fd of ends.splice(0)) fs.closeSync(fd); // the container holds them now
        if (!pty) return relay(readers(id), log, id);
        const master = new tty.ReadStream(pty.master);
        // the terminal `box attach` relays to: its input and window size
        terminalOpened(id, { write: (d) => master.write(d), resize: (rows, cols) => libc.setWinsize(pty.master, rows, cols), get writableLength() { return master.writableLength; } });
        const relays = relay([[master, 'stdout']] as [Readable, string][], log, id);
        Promise.all(relays).then(() => terminalClosed(id));
        return relays;
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
    }, verb === 'restart' ? undefined : pool?.take());
    exited(id, status); // its output is relayed by now: attached clients get the status last
    return status;
  } finally {
    for (const fd of ends) fs.closeSync(fd);
    fs.closeSync(log);
  }
}

/**
 * `box start` of a container that ran and exited: ours now, "created" again, under its lock
 * (two starts at once: one wins, the other finds it running). Docker's start resets the
 * restart count and the manual stop.
 */
function takeExited(id: string, me: Identity, reply: (m: object) => void): ContainerState | undefined {
  const s = withContainerLock(id, () => {
    const now = load(id);
    if (!now || now.status !== 'exited') return now ? `box start: container ${id.slice(0, 12)} is ${now.status}` : `box: No such container: ${id}`;
    patch(now, { status: 'created', owner: me, pid: 0, restartCount: 0, manuallyStopped: false, restartCancelled: false });
    return now;
  });
  if (typeof s === 'string' || !s) { reply({ error: s ?? `box: No such container: ${id}`, status: 1 }); return undefined; }
  return s;
}

/** What teardown removed at the last exit: the cgroups with their limits, the overlay's work directory. */
function remake(state: ContainerState) {
  const cg = cgroupManager(state.id);
  if (cg.dirs.join('\0') !== state.cgroups.join('\0')) throw Object.assign(new Error(`box start: container ${state.id.slice(0, 12)}: its cgroups were made under another parent (BOX_ROOT changed?)`), { status: 1 });
  cg.create();
  cg.apply(state.spec.resources, { privileged: state.spec.privileged });
  for (const d of [state.rootfs.merged, state.rootfs.upper, state.rootfs.work]) if (d) fs.mkdirSync(d, { recursive: true });
}

function closeNamespaceFds(state: ContainerState) {
  for (const fd of Object.values(state.namespaceFds ?? {})) { try { fs.closeSync(fd); } catch { /* closed */ } }
  state.namespaceFds = undefined;
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
