// The supervisor of a detached container (`box run -d`, `box create`): a box process in
// its own session that owns the container's life — it writes the container's output to
// a log (Docker's json-file shape), waits for `box start` after create, records exit
// status, OOM and finish time, tears down, and exits. The client waits for it to report
// "running" (or "created"), prints the id and returns.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { Duplex, Readable } from 'node:stream';
import * as tty from 'node:tty';
import * as net from 'node:net';
import { load, patch, ownerAlive, ContainerState } from '../state/store';
import { processStart } from '../util/proc';
import { containerDir } from '../state/paths';
import { runContainer } from './start';
import { teardown } from './teardown';
import { selfArgs, selfEnv } from './launch';
import { Channel, sendMessage, CHANNEL_FD } from '../inside/protocol';
import * as libc from '../libc';
import { ContainerError } from './errors';
import { get, isRunning, waitFor } from './query';

export const logFile = (id: string) => path.join(containerDir(id), `${id}-json.log`);
export const startFifo = (id: string) => path.join(containerDir(id), 'start.fifo');

/**
 * Client side: hand the created container to a supervisor, and return once it reports the
 * container running (`run -d`) or set up and waiting (`create`). A setup failure there is
 * thrown here as the supervisor reported it.
 */
export async function detach(state: ContainerState, verb: 'run' | 'create'): Promise<void> {
  if (verb === 'create') libc.mkfifo(startFifo(state.id), 0o600);
  const sup = spawn(process.execPath, [...selfArgs(), '__supervise', state.id, verb], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'], env: selfEnv(), detached: true, // its own session: the user's terminal cannot signal it
  });
  const chan = new Channel(sup.stdio[3] as Duplex);
  const msg = await chan.next();
  sup.unref();
  (sup.stdio[3] as Duplex).destroy();
  if (msg?.error) throw new ContainerError('setup', msg.error, msg.status ?? 125);
  if (!msg) throw new ContainerError('setup', `box ${verb}: the supervisor of ${state.id.slice(0, 12)} exited before the container ran`);
}

/** `box start` of a created container: tell its supervisor, return once the container runs. */
export async function startCreated(ref: string): Promise<void> {
  const s = get(ref);
  if (isRunning(s)) return; // already running: Docker just names it
  const fifo = startFifo(s.id);
  if (s.status !== 'created' || !ownerAlive(s) || !fs.existsSync(fifo)) {
    throw new ContainerError('state', `box start: container ${ref} cannot be started: it is ${s.status === 'created' ? 'not held by a supervisor' : s.status} (box start runs containers made by box create)`);
  }
  const fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  try { fs.writeSync(fd, 'start\n'); } finally { fs.closeSync(fd); }
  // the supervisor records "running" — or drops the record if setup failed (it never ran)
  if (!(await waitFor(s.id, (now) => !now || now.status !== 'created', 30000))) throw new ContainerError('timeout', `box start: container ${ref} did not start`);
}

/** `__supervise ID run|create`: runs in the background until the container is gone. */
export async function supervise(id: string, verb: string): Promise<number> {
  const state = load(id);
  if (!state) return 125;
  patch(state, { owner: { pid: process.pid, start: processStart(process.pid)! } });
  process.title = `box-supervise ${id.slice(0, 12)}`;
  const log = fs.openSync(logFile(id), 'a', 0o640);
  const report = (m: object) => { try { sendMessage(m, CHANNEL_FD); } catch { /* client gone */ } };
  let status = 125;
  try {
    status = await runContainer(state, {
      stdio: ['ignore', 'pipe', 'pipe'],
      attach(child, pty) {
        const sources: [Readable, string][] = pty ? [[new tty.ReadStream(pty.master), 'stdout']] : [[child.stdout!, 'stdout'], [child.stderr!, 'stderr']];
        return sources.map(([from, stream]) => new Promise<void>((done) => {
          from.on('data', (d: Buffer) => fs.writeSync(log, JSON.stringify({ log: d.toString(), stream, time: new Date().toISOString() }) + '\n'));
          from.on('error', () => done()); // a pty's EIO: the container is gone
          from.on('close', () => done());
        }));
      },
      beforeStart: verb === 'create' ? async () => {
        report({ created: true });
        await waitForStart(startFifo(id));
      } : undefined,
      onSpawn: (child) => { state.pid = child.pid; state.pidStart = processStart(child.pid!); },
      onRunning: () => { if (verb === 'run') report({ running: true }); },
    });
  } catch (e: any) {
    status = e.status ?? 125;
    report({ error: e.message, status });
  } finally {
    fs.closeSync(log);
    state.exitCode = status;
    teardown(state);
  }
  return status;
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
    s.unref(); // the stage's exit, not this fifo, decides when the supervisor may end
  });
}
