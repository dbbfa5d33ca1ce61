// The private directory where the single file unpacks what it cannot run from inside
// itself (koffi's native module) and keeps V8's code cache. Code is loaded from here,
// so it must be ours and writable by nobody else; noexec places are skipped by callers.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Candidate directories, in order; later ones for hosts where earlier ones are noexec or read-only. */
export function cacheDirs(): string[] {
  const uid = process.geteuid!();
  const dirs: string[] = [];
  if (process.env.BOX_CACHE_DIR) dirs.push(process.env.BOX_CACHE_DIR);
  if (uid === 0) dirs.push('/var/cache/box');
  const home = process.env.HOME;
  if (home && uid !== 0) dirs.push(path.join(process.env.XDG_CACHE_HOME || path.join(home, '.cache'), 'box'));
  dirs.push(`/run/box-${uid}`, path.join(os.tmpdir(), `box-${uid}`), `/dev/shm/box-${uid}`);
  return dirs;
}

/** A directory we may load code from: ours, and nobody else can write into it. */
export function safeDir(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    return st.isDirectory() && st.uid === process.geteuid!() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}
