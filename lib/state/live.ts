// The index of live containers (status created or running): one empty file per id in
// /var/lib/box/live. Only they can need collection after a SIGKILLed box, so collect()
// reads this directory, not every record: its cost follows the live containers, not the
// thousands of exited ones a host may keep. Kept by the record writer (store.ts): the
// entry is made before a record first says created, and goes after it says exited or is
// removed, so no live record is ever without its entry.
// `.complete` marks an index built from every record: a store written by an older box,
// or an index someone deleted, is rebuilt once by a full scan.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './paths';
import { syncDir } from '../util/atomic';

export const LIVE = path.join(ROOT, 'live');
const COMPLETE = path.join(LIVE, '.complete');
const entry = (id: string) => path.join(LIVE, id);

/** Index a container as live; true if it was not yet. `durable`: fsync the directory (also when the entry was there). */
export function markLive(id: string, durable: boolean): boolean {
  const made = !fs.existsSync(entry(id));
  if (made) {
    fs.mkdirSync(LIVE, { recursive: true, mode: 0o700 });
    fs.closeSync(fs.openSync(entry(id), 'a', 0o600));
  }
  if (durable) syncDir(LIVE);
  return made;
}

export function unmarkLive(id: string) {
  fs.rmSync(entry(id), { force: true });
}

export function liveIds(): string[] {
  try {
    return fs.readdirSync(LIVE).filter((i) => /^[0-9a-f]{64}$/.test(i));
  } catch {
    return [];
  }
}

export const indexComplete = () => fs.existsSync(COMPLETE);

export function markComplete() {
  fs.mkdirSync(LIVE, { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(COMPLETE, 'a', 0o600));
}
