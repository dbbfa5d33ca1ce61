// A faithful copy of a directory tree for the no-overlayfs fallback: owners, modes, times,
// symlinks as they are, and hard links kept as hard links (fs.cpSync would split them).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as libc from '../libc';
import { mknodat } from '../libc/paths';
import { AT_FDCWD } from '../libc/constants';

export function copyTree(from: string, to: string, skip: (st: fs.Stats) => boolean = () => false) {
  const links = new Map<string, string>(); // "dev:ino" of a multiply-linked file → its copy
  const dirs: [string, fs.Stats][] = [];
  const walk = (src: string, dst: string) => {
    for (const name of fs.readdirSync(src)) {
      const s = path.join(src, name), d = path.join(dst, name);
      const st = fs.lstatSync(s);
      if (skip(st)) continue;
      let existing: fs.Stats | undefined;
      try { existing = fs.lstatSync(d); } catch { /* new */ }
      if (existing && !(existing.isDirectory() && st.isDirectory())) fs.rmSync(d, { recursive: true, force: true });
      if (st.isDirectory()) {
        if (!existing || !existing.isDirectory()) fs.mkdirSync(d);
        walk(s, d);
        dirs.push([d, st]); // modes and times of directories last: copying into them changes mtime
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 && links.has(key)) { fs.linkSync(links.get(key)!, d); continue; }
      if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(s), d);
      else if (st.isFile()) fs.copyFileSync(s, d);
      else if (st.isCharacterDevice() || st.isBlockDevice()) mknodat(AT_FDCWD, d, st.mode, st.rdev) // st_mode and st_rdev as lstat gave them;
      else if (st.isFIFO()) libc.mkfifo(d, st.mode & 0o7777);
      else continue; // sockets are not part of images
      if (st.nlink > 1) links.set(key, d);
      fs.lchownSync(d, st.uid, st.gid);
      if (!st.isSymbolicLink()) fs.chmodSync(d, st.mode & 0o7777);
      fs.lutimesSync(d, st.atime, st.mtime);
    }
  };
  walk(from, to);
  for (const [d, st] of dirs) {
    fs.chownSync(d, st.uid, st.gid);
    fs.chmodSync(d, st.mode & 0o7777);
    fs.utimesSync(d, st.atime, st.mtime);
  }
}
