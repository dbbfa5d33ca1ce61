// The copy of `box cp`, fd-based from end to end, so a hostile container cannot turn it
// against the host (CVE-2018-15664: docker cp resolved a path, then used the string while the
// container swapped a component for a symlink to /).
//
// - A container path is resolved once, from the container's root fd, with openat2
//   RESOLVE_IN_ROOT (resolveIn): symlinks and ".." stay inside the root whatever they say.
// - From there on, every step is relative to an fd box holds: a directory is read through
//   /proc/self/fd/N (the very inode, no lookup), a child is opened with openat(dirfd, NAME,
//   O_NOFOLLOW), a file is created with O_CREAT|O_EXCL|O_NOFOLLOW in a directory fd box opened
//   itself. A name is one component and its last link is never followed; a directory swapped
//   for a symlink after box opened it changes nothing, box keeps the directory it opened.
// - The same walk reads the host side (box's user's own files: trusted, but the same rules
//   cost nothing), and the same writer writes the host side (for copies out of a container).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc, closeFd } from '../libc/seam';
import { O_PATH, O_CLOEXEC, procFd, symlinkat, mkdirat, mknodat, readlinkat } from '../libc/paths';
import { S_IFIFO } from '../libc/constants';
import { BoxError } from '../libc/errors';

const { O_NOFOLLOW, O_DIRECTORY, O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NONBLOCK } = fs.constants;
const ENOENT = 2, EEXIST = 17;

export type Kind = 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'link';

/** One thing to copy, named relative to the top of the copy ('' is the top itself). */
export interface Entry {
  rel: string;
  kind: Kind;
  mode: number;                // permission bits (07777)
  uid: number; gid: number;
  mtime: Date;
  size: number;                // regular files
  linkpath?: string;           // symlinks: the target; hard links ('link', from archives): the other entry's rel
  devmajor?: number; devminor?: number;
  /** Regular files from a walk: a readable fd on the very inode walked; the caller closes it. */
  open?: () => number;
}

const kindOf = (st: fs.Stats): Kind | undefined =>
  st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo'
    : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : undefined; // sockets are not copied (nor by tar)

/** openat(dir, name, O_PATH|O_NOFOLLOW), or -1 when it does not exist. */
export function probe(dir: number, name: string): number {
  try {
    return libc.openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, name);
  } catch (e: any) {
    if (e.errno === ENOENT) return -1;
    throw e;
  }
}

function entryOf(fd: number, st: fs.Stats, rel: string): Entry | undefined {
  const kind = kindOf(st);
  if (!kind) return undefined;
  const e: Entry = { rel, kind, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: kind === 'file' ? st.size : 0 };
  if (kind === 'symlink') e.linkpath = readlinkat(fd, '', rel);
  if (kind === 'char' || kind === 'block') { e.devmajor = Math.floor(st.rdev / 256) & 0xfff; e.devminor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00); }
  // reopened through /proc/self/fd: exactly this inode (already known to be a regular file, so no FIFO can block the open)
  if (kind === 'file') e.open = () => libc.open(procFd(fd), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  return e;
}

/**
 * Every entry under the O_PATH fd `top` (the top first, then depth first, names sorted).
 * `contentsOnly`: a directory's children without the directory itself (SRC ending in "/.").
 */
export function* walk(top: number, contentsOnly = false): Generator<Entry> {
  const st = libc.fstat(top);
  const e = entryOf(top, st, '');
  if (!e) return;
  if (!contentsOnly || e.kind !== 'dir') yield e;
  if (e.kind === 'dir') yield* children(top, '');
}

function* children(dir: number, rel: string): Generator<Entry> {
  let names: string[];
  try { names = fs.readdirSync(procFd(dir)).sort(); } catch (e: any) { if (e.code === 'ENOENT') return; throw e; }
  for (const name of names) {
    const fd = probe(dir, name);
    if (fd < 0) continue; // gone meanwhile
    try {
      const r = rel ? `${rel}/${name}` : name;
      const e = entryOf(fd, libc.fstat(fd), r);
      if (!e) continue;
      yield e;
      if (e.kind === 'dir') yield* children(fd, r);
    } finally {
      closeFd(fd);
    }
  }
}

/** Read a walked regular file's data in chunks (exactly `size` bytes: a file that changed meanwhile is cut or padded, as its header said). */
export function* chunks(e: Entry): Generator<Buffer> {
  if (!e.open || !e.size) return;
  const fd = e.open();
  try {
    let left = e.size;
    while (left > 0) {
      const buf = Buffer.alloc(Math.min(left, 1 << 20));
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) { yield Buffer.alloc(left); return; }
      left -= n;
      yield buf.subarray(0, n);
    }
  } finally {
    closeFd(fd);
  }
}

export interface WriterOptions {
  /** The owner of what is created: the entry's (-a), or fixed ones. */
  owner: (e: Entry) => [number, number];
  /** Clear set-uid/set-gid bits (files copied out onto the host without -a: their owner changes). */
  dropSetId?: boolean;
  /** Device nodes are skipped (a container must not hand the host a device, nor the host one to it through cp). */
  warn: (msg: string) => void;
}

/**
 * Creates entries below `base` (an fd box holds: the directory the copy goes into) as
 * `topName` ('' when the top entry is `base` itself: a directory's contents into an existing
 * directory). Every directory it goes into is one it opened itself, component by component,
 * O_NOFOLLOW; a name in the way is replaced unless a directory and a non-directory meet.
 */
export class TreeWriter {
  private dirs = new Map<string, number>(); // dest rel → fd of a directory box opened
  private times: [number, Date][] = [];       // directories' mtimes, set last (their children change them)

  constructor(private base: number, private topName: string, private o: WriterOptions) {}

  private dest(rel: string) { return [this.topName, rel].filter(Boolean).join('/'); }

  /** The directory `rel` (dest-relative), made if missing, as an fd of box's own. */
  private dir(rel: string): number {
    if (rel === '' || rel === '.') return this.base;
    const known = this.dirs.get(rel);
    if (known !== undefined) return known;
    const parent = this.dir(path.posix.dirname(rel)), name = path.posix.basename(rel);
    try { mkdirat(parent, name, 0o755, name); } catch (e: any) { if (e.errno !== EEXIST) throw e; }
    const fd = this.openDir(parent, name, rel);
    this.dirs.set(rel, fd);
    return fd;
  }

  private openDir(parent: number, name: string, rel: string): number {
    try {
      return libc.openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, rel);
    } catch (e: any) {
      throw new BoxError(`box cp: ${rel}: ${e.errno === 20 || e.errno === 40 ? 'not a directory (a symlink or a file is in the way)' : e.message}`);
    }
  }

  /** Create one entry; for a regular file returns a function taking its data, then null at the end. */
  put(e: Entry): ((chunk: Buffer | null) => void) | undefined {
    const rel = this.dest(e.rel);
    if (e.kind === 'char' || e.kind === 'block') { this.o.warn(`box cp: ${rel}: device node skipped`); return undefined; }
    if (rel === '') return undefined; // a directory's contents into an existing one: that one stays as it is (Docker)
    const parent = this.dir(path.posix.dirname(rel)), name = path.posix.basename(rel);
    const [uid, gid] = this.o.owner(e);
    let mode = e.mode;
    if (this.o.dropSetId) mode &= ~0o6000;
    const old = probe(parent, name);
    if (old >= 0) {
      const isDir = libc.fstat(old).isDirectory();
      closeFd(old);
      if (isDir && e.kind === 'dir') { const fd = this.dir(rel); this.finishDir(fd, e); return undefined; }
      if (isDir) throw new BoxError(`box cp: cannot overwrite directory "${rel}" with non-directory`);
      if (e.kind === 'dir') throw new BoxError(`box cp: cannot overwrite non-directory "${rel}" with directory`);
      fs.unlinkSync(`${procFd(parent)}/${name}`); // unlink never follows its last component
    }
    const at = `${procFd(parent)}/${name}`; // one component below a directory fd: for the calls that take no fd (never following it)
    switch (e.kind) {
      case 'dir': {
        mkdirat(parent, name, 0o700, rel);
        const fd = this.openDir(parent, name, rel);
        this.dirs.set(rel, fd);
        fs.fchownSync(fd, uid, gid);
        fs.fchmodSync(fd, mode);
        this.finishDir(fd, e);
        return undefined;
      }
      case 'symlink':
        symlinkat(e.linkpath!, parent, name, rel);
        fs.lchownSync(at, uid, gid);
        fs.lutimesSync(at, e.mtime, e.mtime);
        return undefined;
      case 'link': {
        const src = this.dest(e.linkpath!);
        fs.linkSync(`${procFd(this.dir(path.posix.dirname(src)))}/${path.posix.basename(src)}`, at); // link(2) follows neither name
        return undefined;
      }
      case 'fifo': {
        mknodat(parent, name, S_IFIFO | 0o600, 0, rel);
        const fd = probe(parent, name);
        try {
          if (!libc.fstat(fd).isFIFO()) throw new BoxError(`box cp: ${rel}: replaced while being created`);
          fs.chownSync(procFd(fd), uid, gid); // the magic link leads to this very FIFO, nothing else
          fs.chmodSync(procFd(fd), mode);
          fs.utimesSync(procFd(fd), e.mtime, e.mtime);
        } finally { closeFd(fd); }
        return undefined;
      }
      case 'file': {
        const fd = libc.openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600, rel);
        return (chunk) => {
          if (chunk) { for (let off = 0; off < chunk.length;) off += fs.writeSync(fd, chunk, off); return; }
          try {
            fs.fchownSync(fd, uid, gid);
            fs.fchmodSync(fd, mode); // after chown, which clears set-uid bits
            fs.futimesSync(fd, e.mtime, e.mtime);
          } finally { closeFd(fd); }
        };
      }
    }
    return undefined;
  }

  private finishDir(fd: number, e: Entry) { this.times.push([fd, e.mtime]); }

  /** Directory times, deepest first; every fd closed. */
  close() {
    for (const [fd, t] of this.times.reverse()) {
      try {
        // an O_PATH base cannot take futimes: through its /proc/self/fd link (this very directory)
        fs.utimesSync(procFd(fd), t, t);
      } catch { /* a read-only base */ }
    }
    for (const fd of this.dirs.values()) closeFd(fd);
    this.dirs.clear();
  }
}

/** Write a whole walk into a TreeWriter. */
export function copyWalk(entries: Iterable<Entry>, w: TreeWriter) {
  try {
    for (const e of entries) {
      const sink = w.put(e);
      if (!sink) continue;
      for (const c of chunks(e)) sink(c);
      sink(null);
    }
  } finally {
    w.close();
  }
}
