// The anchors of a store's supervisors (lib/supervisor/anchor.ts): one record per anchor,
// RUN/anchors/<pid>.json = { pid, start, supervisor: { pid, start } }, written by the
// supervisor that runs under it. An anchor is a subreaper that never reaps: when its
// supervisor dies, the detached containers it spawned become the anchor's children, and
// when they exit they stay zombies whose exit status anyone may read in /proc — until
// the anchor goes. So an anchor is released (killed; init then reaps its zombies) only
// once its supervisor is gone and no live record still names it: every exit status it
// held has been read and recorded by then.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ANCHORS } from './paths';
import { load } from './store';
import { liveIds } from './live';
import { processStart, signalProcess } from '../util/proc';

export interface AnchorRecord { pid: number; start: string; supervisor: { pid: number; start: string } }

const file = (pid: number) => path.join(ANCHORS, `${pid}.json`);

export function recordAnchor(a: AnchorRecord) {
  fs.mkdirSync(ANCHORS, { recursive: true, mode: 0o700 });
  fs.writeFileSync(file(a.pid), JSON.stringify(a), { mode: 0o600 });
}

export function forgetAnchor(pid: number) {
  fs.rmSync(file(pid), { force: true });
}

function anchors(): AnchorRecord[] {
  let names: string[] = [];
  try { names = fs.readdirSync(ANCHORS).filter((n) => n.endsWith('.json')); } catch { return []; }
  return names.flatMap((n) => { try { return [JSON.parse(fs.readFileSync(path.join(ANCHORS, n), 'utf8'))]; } catch { return []; } });
}

/** Kill the anchors that hold nothing unread any more (see above); drop records of anchors that are gone. */
export function releaseAnchors() {
  const all = anchors();
  if (!all.length) return;
  const named = new Set<string>();
  for (const id of liveIds()) {
    const s = load(id);
    if (s?.anchor) named.add(`${s.anchor.pid}:${s.anchor.start}`);
  }
  for (const a of all) {
    if (processStart(a.pid) !== a.start) { forgetAnchor(a.pid); continue; }
    if (processStart(a.supervisor.pid) === a.supervisor.start) continue; // its supervisor runs: current
    if (named.has(`${a.pid}:${a.start}`)) continue;                    // a container of it is still live or unrecorded
    signalProcess(a.pid, a.start, 9);
    forgetAnchor(a.pid);
  }
}
