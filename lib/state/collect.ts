// Leak collection, run at the start of every box invocation that changes state: a box
// that was SIGKILLed could not tear down. Its stage died with it (PDEATHSIG) and the
// kernel unmounted the container's mounts with its namespace; what can remain are
// cgroup directories, the container's directory and its name. Those are collected here.
// Only live records (created, running) can be left so, and the live index (live.ts) names
// them: a store's exited records are never read here, however many there are.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { list, load, ownerAlive, orphaned, update, removeRecord, releaseName, ContainerState } from './store';
import { releaseAnchors } from './anchors';
import { zombieStatus } from '../util/proc';
import { managerForDirs, parentDirs } from '../cgroup/manager';
import { CONTAINERS, NAMES, containerDir } from './paths';
import { withLock, withContainerLock } from './lock';
import { liveIds, markLive, unmarkLive, indexComplete, markComplete } from './live';

/**
 * One collector at a time: two boxes must not reclaim the same dead container twice.
 * Returns the ids of detached containers that run without a supervisor (it died): the
 * caller starts one to adopt them (lib/supervisor/client.ts).
 */
export function collect(): string[] {
  return withLock('collect', collectLocked);
}

const isLive = (s: ContainerState) => s.status === 'created' || s.status === 'running' || s.status === 'restarting';

function collectLocked(): string[] {
  const adopt: string[] = [];
  if (!indexComplete()) {
    // a store from before the index (or an index deleted): every record, once
    for (const s of list()) if (isLive(s)) markLive(s.id, false);
    markComplete();
  }
  const live = new Set<string>();
  for (const id of liveIds()) {
    const s = load(id);
    if (!s) {
      // no record: removed (the entry goes last), being created (entry, directory, name,
      // then the record), or its creator died before the record: reclaimed after a while
      if (!fs.existsSync(containerDir(id))) unmarkLive(id);
      else if (unrecordedFor(id) > UNRECORDED_MS) removeUnrecorded(id);
      else live.add(id);
    } else if (!isLive(s)) {
      unmarkLive(id); // a writer died between the record and the index
    } else if (ownerAlive(s)) {
      live.add(id);
      if (orphaned(s)) adopt.push(id);
    } else {
      reclaim(id);
    }
  }
  // cgroup directories under box's parent whose container record is gone (or never written).
  const parents = parentDirs();
  const orphans = new Set<string>();
  for (const parent of parents) {
    let ids: string[] = [];
    try { ids = fs.readdirSync(parent, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name); } catch { continue; }
    for (const id of ids) if (!live.has(id) && !fs.existsSync(path.join(CONTAINERS, id))) orphans.add(id);
  }
  // one manager per orphan over all its hierarchies, so that v1's freezer holds it while it is killed
  for (const id of orphans) {
    try { managerForDirs(parents.map((p) => path.join(p, id)).filter((d) => fs.existsSync(d))).destroy(); } catch { /* next time */ }
  }
  releaseAnchors(); // after the reclaims above: they read the exit statuses the anchors held
  return adopt;
}

/** A creation takes well under a second from its directory to its first record. */
const UNRECORDED_MS = 60000;
const unrecordedFor = (id: string) => { try { return Date.now() - fs.statSync(containerDir(id)).mtimeMs; } catch { return 0; } };

/** A directory whose creator died before writing its record: it, and the name it may have reserved, go. */
function removeUnrecorded(id: string) {
  withContainerLock(id, () => {
    if (load(id)) return;
    try { for (const n of fs.readdirSync(NAMES)) releaseName(n, id); } catch { /* no names yet */ }
    fs.rmSync(containerDir(id), { recursive: true, force: true });
  });
  unmarkLive(id);
}

/** A live record whose owner is dead: checked again under the container's lock (`box rm` may be at it too). */
function reclaim(id: string) {
  withContainerLock(id, () => {
    const s = load(id);
    if (!s || !isLive(s) || ownerAlive(s)) return;
    try {
      const cg = managerForDirs(s.cgroups);
      cg.killAll();
      cg.destroy();
    } catch {
      return; // still live in the index: next time
    }
    if (s.spec.rm) return removeRecord(s);
    for (const d of ['work', 'merged']) fs.rmSync(path.join(CONTAINERS, s.id, d), { recursive: true, force: true });
    // a detached container whose supervisor died: its exit status is still readable while
    // it is an unreaped zombie under its anchor (lib/state/anchors.ts)
    const exited = s.supervised && s.pid ? zombieStatus(s.pid, s.pidStart) : undefined;
    update(id, (now) => {
      now.status = 'exited';
      now.exitCode = now.exitCode ?? exited ?? 137;
      now.finishedAt = new Date().toISOString();
      now.pid = 0;
    });
  });
}
