// Detached containers (`box run -d`, `box create`) from the client's side: the store's
// one supervisor (lib/supervisor/) owns them — their output log (Docker's json-file
// shape), the wait for `box start` after create, exit status, OOM, finish time, teardown.
// The client hands the created container over and returns once the supervisor reports it
// running (or set up and waiting).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ownerAlive, ContainerState } from '../state/store';
import { containerDir } from '../state/paths';
import * as libc from '../libc';
import { ContainerError } from './errors';
import { get, isRunning, waitFor, current } from './query';
import { collectAndAdopt } from '../supervisor/orphans';
import { request } from '../supervisor/client';

export { logFile } from '../supervisor/logs';
export const startFifo = (id: string) => path.join(containerDir(id), 'start.fifo');

/**
 * Client side: hand the created container to the supervisor, and return once it reports the
 * container running (`run -d`) or set up and waiting (`create`). A setup failure there is
 * thrown here as the supervisor reported it.
 */
export async function detach(state: ContainerState, verb: 'run' | 'create'): Promise<void> {
  if (verb === 'create') libc.mkfifo(startFifo(state.id), 0o600);
  const msg = await request({ run: state.id, verb });
  if (msg?.error) throw new ContainerError('setup', msg.error, msg.status ?? 125);
  if (!msg) throw new ContainerError('setup', `box ${verb}: the supervisor of ${state.id.slice(0, 12)} exited before the container ran`);
}

/**
 * `box start`: a created container — tell its supervisor — or one that ran and exited — the
 * supervisor runs it again, on its own writable layer; return once the container runs.
 */
export async function startCreated(ref: string): Promise<void> {
  const s = get(ref);
  if (isRunning(s) || (s.status === 'restarting' && ownerAlive(s))) return; // already running: Docker just names it
  if (current(s).status === 'exited') return startExited(s, ref);
  const fifo = startFifo(s.id);
  if (s.status !== 'created' || !ownerAlive(s) || !fs.existsSync(fifo)) {
    throw new ContainerError('state', `box start: container ${ref} cannot be started: it is ${s.status === 'created' ? 'not held by a supervisor' : s.status} (box start runs containers made by box create)`);
  }
  const fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  try { fs.writeSync(fd, 'start\n'); } finally { fs.closeSync(fd); }
  // the supervisor records "running" — or drops the record if setup failed (it never ran)
  if (!(await waitFor(s.id, (now) => !now || now.status !== 'created', 30000))) throw new ContainerError('timeout', `box start: container ${ref} did not start`);
}

async function startExited(s: ContainerState, ref: string): Promise<void> {
  if (s.status !== 'exited') collectAndAdopt(); // a dead owner's "running": recorded exited first
  const msg = await request({ run: s.id, verb: 'start' });
  if (msg?.error) throw new ContainerError('state', msg.error, msg.status ?? 1);
  if (!msg) throw new ContainerError('setup', `box start: the supervisor exited before container ${ref} ran`, 1);
}
