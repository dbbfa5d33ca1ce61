// Container records: /var/lib/box/containers/<id>/state.json, written atomically (temp +
// rename, lib/util/atomic.ts) under the container's lock; `update` is the read-modify-write.
// Live ones are indexed (live.ts). A name is reserved by creating /var/lib/box/names/<name>
// (a symlink to the id): creation is atomic, so two runs cannot take the same name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { CONTAINERS, NAMES, containerDir } from './paths';
import { BoxError } from '../libc/errors';
import { ContainerSpec, StageConfig } from '../options/types';
import { SeccompFilter } from '../seccomp';
import { processStart, zombieStatus } from '../util/proc';
import { writeFileAtomic } from '../util/atomic';
import { withContainerLock } from './lock';
import { markLive, unmarkLive } from './live';

// restarting: PID 1 exited and its supervisor waits out the restart policy's backoff (Docker's State.Restarting)
export type Status = 'created' | 'running' | 'restarting' | 'exited' | 'dead';

export interface ContainerState {
  id: string;
  name: string;
  image: string;
  spec: ContainerSpec;
  status: Status;
  created: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  oomKilled?: boolean;
  pid?: number;                         // container PID 1, host view …
  pidStart?: string;                    // … and its start time (lib/util/proc.ts): signals go to that process only
  paused?: boolean;                     // frozen by `box pause`
  owner: { pid: number; start: string }; // the box process responsible for tearing it down
  supervised?: boolean;                  // detached (run -d, create): PID 1 outlives a dead supervisor; the next one adopts it
  anchor?: { pid: number; start: string }; // the subreaper above the supervisor that spawned it (lib/supervisor/anchor.ts)
  cgroups: string[];
  rootfs: StageConfig['rootfs'];          // the image's layers and this container's writable layer
  namespaces?: Record<string, number>;   // nsfs inode numbers of PID 1 at start: what exec joins
  namespaceFds?: Record<string, number>; // the owner's fds on them, held while the container lives
  procView?: boolean;       // its /proc view was mounted (lib/procview/host.ts): a successor supervisor that adopts it knows to serve it again
  seccomp?: SeccompFilter;               // compiled at create: run and every exec load the same program
  restartCount?: number;                 // restarts by the policy since the last start by the user (Docker's RestartCount)
  manuallyStopped?: boolean;             // `box stop`/`kill` since that start: unless-stopped does not restart (HasBeenManuallyStopped)
  restartCancelled?: boolean;            // stop, kill with the stop signal (or KILL), rm -f: the next exit is final (Docker's ExitOnNext)
}

export function newId(): string {
  return crypto.randomBytes(32).toString('hex');
}

/** The recorded owner process itself is alive. */
export function ownerProcessAlive(s: ContainerState): boolean {
  return processStart(s.owner.pid) === s.owner.start;
}

/**
 * Someone answers for this container: its owner, or — a detached container that outlived
 * its supervisor — its own PID 1, still running, until a new supervisor adopts it
 * (lib/supervisor/adopt.ts). Otherwise its record is stale and collection reclaims it.
 */
export function ownerAlive(s: ContainerState): boolean {
  if (ownerProcessAlive(s)) return true;
  if (s.supervised && s.status === 'restarting') return true; // between two runs: the next supervisor takes it on
  if (exitAwaitsPolicy(s)) return true;
  return !!s.supervised && s.status === 'running' && !!s.pid && processStart(s.pid) === s.pidStart;
}

/**
 * A detached container with a restart policy that exited while no supervisor ran: its exit
 * status waits in its zombie (under the dead supervisor's anchor), and the policy is for a
 * supervisor to carry out — it is adopted, not reclaimed (lib/supervisor/adopt.ts).
 */
function exitAwaitsPolicy(s: ContainerState): boolean {
  if (!s.supervised || s.status !== 'running' || !s.pid || !s.spec.restart || s.spec.restart.name === 'no' || s.restartCancelled) return false;
  return !ownerProcessAlive(s) && zombieStatus(s.pid, s.pidStart) !== undefined;
}

/** A detached container running without a supervisor (it died): one must adopt it. */
export function orphaned(s: ContainerState): boolean {
  if (s.supervised && s.status === 'restarting') return !ownerProcessAlive(s);
  if (exitAwaitsPolicy(s)) return true;
  return !!s.supervised && s.status === 'running' && !ownerProcessAlive(s) && !!s.pid && processStart(s.pid) === s.pidStart;
}

export function reserveName(name: string, id: string) {
  fs.mkdirSync(NAMES, { recursive: true, mode: 0o700 });
  try {
    fs.symlinkSync(id, path.join(NAMES, name));
  } catch (e: any) {
    if (e.code !== 'EEXIST') throw e;
    let holder = '';
    try { holder = fs.readlinkSync(path.join(NAMES, name)); } catch { /* raced away */ }
    throw new BoxError(`box: Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
  }
}

export function releaseName(name: string, id: string) {
  const p = path.join(NAMES, name);
  try { if (fs.readlinkSync(p) === id) fs.unlinkSync(p); } catch { /* gone */ }
}

const isLive = (s: ContainerState) => s.status === 'created' || s.status === 'running' || s.status === 'restarting';

/** Write a whole record (the caller's copy wins): under the container's lock, so never into the middle of an `update`. */
export function save(s: ContainerState) {
  withContainerLock(s.id, () => write(s)); // no directory: removed meanwhile (box rm -f)
}

/**
 * Read-modify-write under the container's lock: the record as it is on disk, changed by
 * `mutate`, written back. Undefined if there is no record (any more); `mutate` returning
 * false leaves it unwritten.
 */
export function update(id: string, mutate: (s: ContainerState) => void | false): ContainerState | undefined {
  return withContainerLock(id, () => {
    const s = load(id);
    if (!s || mutate(s) === false) return s;
    write(s);
    return s;
  });
}

/**
 * Some fields of a record changed, in the caller's copy and on disk — there under the
 * container's lock, over whatever others wrote meanwhile (`box pause`, `box update`): the
 * owner of a container keeps a copy in memory and must not write back stale fields.
 */
export function patch(s: ContainerState, changes: Partial<ContainerState>) {
  Object.assign(s, changes);
  update(s.id, (now) => { Object.assign(now, changes); });
}

/**
 * fsync only where a reboot must find the change: a record's first write (the container
 * exists: its layer and name are on disk) and its last (exited: the exit code users read
 * later). The saves in between (pid, running) are atomic but not synced: a reboot ends the
 * container anyway and collect() reclaims it from its dead owner, and each fsync costs ~10 ms
 * (measured on ext4), five times per `run`.
 * An --rm container's record is never synced: it is removed when the container ends, and
 * after a power loss its end is removal either way — a record that reached the disk is
 * reclaimed and removed by collect(); a directory whose record did not (or is empty, its data
 * never written) is removed with its name as unrecorded. Its live entry was made before its
 * directory (createContainer), and journaling filesystems (ext4, xfs) keep such metadata in
 * order, so a directory that survived is indexed. A SIGKILLed box needs no fsync at all: the
 * page cache survives it.
 */
function write(s: ContainerState) {
  const dir = containerDir(s.id);
  if (!fs.existsSync(dir)) return;
  const file = path.join(dir, 'state.json');
  const first = isLive(s) && !fs.existsSync(file);
  const durable = !s.spec.rm && (first || !isLive(s));
  if (first) markLive(s.id, durable); // indexed before the record says live; createContainer indexed it before its directory
  writeFileAtomic(file, JSON.stringify(s, null, 1), 0o600, { durable });
  if (!isLive(s)) unmarkLive(s.id); // after the record says it is not
}

export function load(id: string): ContainerState | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(containerDir(id), 'state.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

export function list(): ContainerState[] {
  let ids: string[] = [];
  try { ids = fs.readdirSync(CONTAINERS); } catch { return []; }
  return ids.filter((i) => /^[0-9a-f]{64}$/.test(i)).map(load).filter((s): s is ContainerState => !!s);
}

/** Full id, unique id prefix or name → state. */
export function find(ref: string): ContainerState {
  try {
    const id = fs.readlinkSync(path.join(NAMES, ref));
    const s = load(id);
    if (s) return s;
  } catch { /* not a name */ }
  let ids: string[] = [];
  try { if (ref) ids = fs.readdirSync(CONTAINERS).filter((i) => i.startsWith(ref) && /^[0-9a-f]{64}$/.test(i)); } catch { /* no store */ }
  const matches = ids.map(load).filter((s): s is ContainerState => !!s); // only those: a store may hold thousands
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new BoxError(`box: multiple IDs found with provided prefix: ${ref}`);
  throw new BoxError(`box: No such container: ${ref}`);
}

export function removeRecord(s: ContainerState) {
  const removed = withContainerLock(s.id, () => {
    releaseName(load(s.id)?.name ?? s.name, s.id); // the record's name: `box rename` may have changed it since the caller's copy
    releaseName(s.name, s.id);
    fs.rmSync(containerDir(s.id), { recursive: true, force: true });
    return true;
  });
  if (!removed) releaseName(s.name, s.id); // the directory went first (a failed create)
  unmarkLive(s.id); // after the record is gone: collect() drops an entry whose directory is gone
}
