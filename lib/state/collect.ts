// Leak collection, run at the start of every box invocation that changes state: a box
// that was SIGKILLed could not tear down. Its stage died with it (PDEATHSIG) and the
// kernel unmounted the container's mounts with its namespace; what can remain are
// cgroup directories, the container's directory and its name. Those are collected here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { list, ownerAlive, save, removeRecord, ContainerState } from './store';
import { managerForDirs, parentDirs } from '../cgroup/manager';
import { CONTAINERS } from './paths';
import { withLock } from './lock';

/** One collector at a time: two boxes must not reclaim the same dead container twice. */
export function collect() {
  withLock('collect', collectLocked);
}

function collectLocked() {
  const live = new Set<string>();
  for (const s of list()) {
    if ((s.status === 'running' || s.status === 'created') && !ownerAlive(s)) reclaim(s);
    else live.add(s.id);
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
}

function reclaim(s: ContainerState) {
  try {
    const cg = managerForDirs(s.cgroups);
    cg.killAll();
    cg.destroy();
  } catch { /* next time */ }
  if (s.spec.rm) {
    removeRecord(s);
  } else {
    s.status = 'exited';
    s.exitCode = s.exitCode ?? 137;
    s.finishedAt = new Date().toISOString();
    s.pid = 0;
    for (const d of ['work', 'merged']) fs.rmSync(path.join(CONTAINERS, s.id, d), { recursive: true, force: true });
    save(s);
  }
}

