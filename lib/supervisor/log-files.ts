// A container's json-file log and its rotated files (--log-opt max-size/max-file, Docker's
// names: FILE, FILE.1 (the newest rotated), FILE.2, …). The writer (logs.ts) rotates; the
// reader (lib/cli/logs.ts) reads them oldest first.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
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

/**
 * The rotated files' text, oldest first, leaving out the file of inode `except` (the one a
 * LogFollower holds open: FILE itself, or, if it was rotated meanwhile, FILE.1 — read by it).
 */
export function readRotated(id: string, except: number): string {
  const file = logFile(id);
  return logFiles(id).filter((f) => f !== file).map((f) => {
    try {
      if (fs.statSync(f).ino === except) return '';
      return fs.readFileSync(f, 'utf8');
    } catch { return ''; }
  }).join('');
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

/**
 * FILE read as it grows, across rotations: the file it reads is held open, so when FILE is
 * rotated (a new inode at its path) the rest of the old one is read before the new one, from
 * its start. (Truncated in place, max-file 1: read again from the start.)
 */
export class LogFollower {
  private fd = -1;
  private ino = 0;
  private pos = 0;
  private decoder = new StringDecoder('utf8');
  constructor(private readonly file: string) {
    this.open();
  }
  /** The inode of the file read now (0: none yet). */
  get inode() { return this.ino; }
  private open() {
    try { this.fd = fs.openSync(this.file, 'r'); this.ino = fs.fstatSync(this.fd).ino; } catch { this.fd = -1; }
  }
  private readOpen(): string {
    if (this.fd < 0) return '';
    const size = fs.fstatSync(this.fd).size;
    if (size < this.pos) this.pos = 0;
    if (size === this.pos) return '';
    const buf = Buffer.alloc(size - this.pos);
    const n = fs.readSync(this.fd, buf, 0, buf.length, this.pos);
    this.pos += n;
    return this.decoder.write(buf.subarray(0, n)); // a character cut by a write in progress comes whole next time
  }
  /** What was written since the last call (the caller splits the lines). */
  read(): string {
    let text = this.readOpen();
    let ino: number | undefined;
    try { ino = fs.statSync(this.file).ino; } catch { /* between a rename and the new file */ }
    if (ino !== undefined && ino !== this.ino) {
      text += this.readOpen(); // the old file's last records
      if (this.fd >= 0) fs.closeSync(this.fd);
      this.pos = 0;
      this.open();
      text += this.readOpen();
    }
    return text;
  }
  close() { if (this.fd >= 0) fs.closeSync(this.fd); this.fd = -1; }
}
