// A container's json-file log and its rotated files (--log-opt max-size/max-file, Docker's
// names: FILE, FILE.1 (the newest rotated), FILE.2, …). The writer (logs.ts) rotates; the
// reader (lib/cli/logs.ts) reads them oldest first.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { containerDir } from '../state/paths';

export const logFile = (id: string) => path.join(containerDir(id), `${id}-json.log`);

/** The log's files, oldest first: FILE.N … FILE.1, then FILE itself (those that exist). */
export function logFiles(id: string): string[] {
  const file = logFile(id);
  const base = path.basename(file);
  let names: string[] = [];
  try { names = fs.readdirSync(path.dirname(file)); } catch { return []; }
  const rotated = names.map((n) => (n.startsWith(`${base}.`) ? /^\d+$/.exec(n.slice(base.length + 1)) : null))
    .filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[0])).sort((a, b) => b - a);
  return [...rotated.map((n) => `${file}.${n}`), ...(names.includes(base) ? [file] : [])];
}

/** The whole log as text, rotated files first; `current`: the bytes of FILE itself read (where a follower goes on). */
export function readLogText(id: string): { text: string; current: number } {
  const file = logFile(id);
  let current = 0;
  const text = logFiles(id).map((f) => {
    let b: Buffer;
    try { b = fs.readFileSync(f); } catch { return ''; }
    if (f === file) current = b.length;
    return b.toString('utf8');
  }).join('');
  return { text, current };
}

/**
 * Docker's rotation (moby loggerutils): FILE.(max-1) dropped, each FILE.i moved to FILE.i+1,
 * FILE to FILE.1; with max-file 1 nothing is kept (the caller reopens FILE truncated).
 */
export function rotate(file: string, maxFile: number) {
  if (maxFile < 2) return;
  fs.rmSync(`${file}.${maxFile - 1}`, { force: true });
  for (let i = maxFile - 1; i > 1; i--) {
    try { fs.renameSync(`${file}.${i - 1}`, `${file}.${i}`); } catch (e: any) { if (e.code !== 'ENOENT') throw e; }
  }
  try { fs.renameSync(file, `${file}.1`); } catch (e: any) { if (e.code !== 'ENOENT') throw e; }
}
