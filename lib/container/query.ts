// Reading containers: by reference, all of them, and whether one really runs. A record
// alone can outlive a crash, so "running" also needs its owner (box run or its supervisor)
// and its PID 1 — the very process recorded, by start time — alive.
import { find as findRecord, list as listRecords, load, ownerAlive, ContainerState } from '../state/store';
import { processStart } from '../util/proc';
import { collectAndAdopt } from '../supervisor/orphans';
import { ContainerError } from './errors';

export type { ContainerState } from '../state/store';

export function isRunning(s: ContainerState): boolean {
  if (s.status !== 'running' || !s.pid || !ownerAlive(s)) return false;
  const start = processStart(s.pid);
  return start !== undefined && (s.pidStart === undefined || start === s.pidStart);
}

/** The record as it stands: a "running" whose owner died is over (collection will say so on disk). */
export function current(s: ContainerState): ContainerState {
  return s.status === 'running' && !isRunning(s) ? { ...s, status: 'exited' } : s;
}

/** Full id, unique id prefix or name → the container's record. */
export function get(ref: string): ContainerState {
  try {
    return findRecord(ref);
  } catch (e: any) {
    throw new ContainerError(/multiple/.test(e.message) ? 'ambiguous' : 'not-found', e.message);
  }
}

/** Every container of this store (running ones only unless `all`), newest first; dead owners' leftovers collected first when root. */
export function list(opts: { all?: boolean } = {}): ContainerState[] {
  if (process.geteuid!() === 0) collectAndAdopt();
  return listRecords().map(current).filter((s) => opts.all || s.status === 'running' || s.status === 'restarting').sort((a, b) => b.created.localeCompare(a.created));
}

/**
 * Over, as far as anyone can tell: the owner recorded the exit (status and exit code), or
 * removed the record (--rm), or died without recording it (collection will say 137). PID 1
 * gone is not enough: its owner records the exit a moment later, after the output is flushed.
 */
export function ended(s: ContainerState | undefined): boolean {
  return !s || (s.status !== 'running' && s.status !== 'created') || !ownerAlive(s);
}

export function requireRunning(s: ContainerState, ref: string, verb: string): void {
  if (!isRunning(s)) throw new ContainerError('not-running', `box ${verb}: container ${ref} is not running`);
}

/**
 * Poll the record until `done` holds (or the timeout passes; false then). The container's
 * owner writes the record — its status at start and exit, its removal — and every other box
 * invocation learns of it here. Asynchronous: a library caller's event loop keeps running.
 */
export async function waitFor(id: string, done: (s: ContainerState | undefined) => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    if (done(load(id))) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, delay));
  }
}

