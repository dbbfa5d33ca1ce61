// box cp [-a] [-L] CONTAINER:SRC DEST|-   and   box cp [-a] [-L] SRC|- CONTAINER:DEST
// Docker's syntax and path rules (docs/reference/commandline/cp.md): a file onto an existing
// directory goes into it, onto a missing name becomes that name; a directory onto a missing
// name is created as that name, onto an existing directory goes into it — or only its contents
// with SRC ending in "/."; "-" is a tar stream on stdout (out of a container) or stdin (into a
// directory of it). Container paths start at the container's root. Running or stopped: the
// root comes from lib/container/cp-root.ts, the copying (fd-based, confined) from cp.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { libc, closeFd } from '../libc/seam';
import { O_PATH, O_CLOEXEC } from '../libc/paths';
import { AT_FDCWD } from '../libc/constants';
import { resolveIn } from '../mount/resolve';
import { get } from '../container/query';
import { openContainerRoot } from '../container/cp-root';
import { walk, probe, TreeWriter, copyWalk, Entry } from '../container/cp';
import { writeTar, readTar } from '../container/cp-tar';

const { O_DIRECTORY } = fs.constants;
const ENOENT = 2;

interface Spec { container?: string; path: string }
interface Opts { archive: boolean; follow: boolean }

/** Docker's splitCpArg: "-", a path starting with "/" or "." is local; else "NAME:PATH" names a container. */
export function splitArg(a: string): Spec {
  if (a === '-' || a.startsWith('/') || a.startsWith('.')) return { path: a };
  const i = a.indexOf(':');
  return i > 0 ? { container: a.slice(0, i), path: a.slice(i + 1) } : { path: a };
}

/** What a path says besides its name: "/." copies contents, a trailing "/" wants a directory. */
function shape(p: string) {
  return { dot: /(^|\/)\.$/.test(p), slash: /\/$/.test(p) };
}

export async function cp(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('cp', args, {
    archive: { type: 'boolean', short: 'a' }, 'follow-link': { type: 'boolean', short: 'L' },
  }, true);
  if (positionals.length !== 2) throw new BoxError('box cp: "cp" requires exactly 2 arguments: CONTAINER:SRC_PATH DEST_PATH|- or SRC_PATH|- CONTAINER:DEST_PATH');
  const [src, dst] = positionals.map(splitArg);
  if (src.container && dst.container) throw new BoxError('box cp: copying between containers is not supported');
  if (!src.container && !dst.container) throw new BoxError('box cp: must specify at least one container source');
  const o: Opts = { archive: !!v.archive, follow: !!v['follow-link'] };
  if (src.container) await copyOut(src.container, src.path, dst.path, o);
  else await copyIn(src.path, dst.container!, dst.path, o);
  return 0;
}

const inContainer = (p: string) => path.posix.normalize('/' + p);
const notFound = (p: string, ref: string) => new BoxError(`box cp: Could not find the file ${p} in container ${ref}`);
const warn = (m: string) => process.stderr.write(m + '\n');

/** The O_PATH fd of SRC inside the root, its last component not followed unless asked (-L, or a trailing "/"). */
function resolveSource(root: number, p: string, follow: boolean, ref: string): number {
  const clean = inContainer(p);
  try {
    if (follow || clean === '/') return resolveIn(root, clean);
    const parent = resolveIn(root, path.posix.dirname(clean));
    try {
      const fd = probe(parent, path.posix.basename(clean));
      if (fd < 0) throw notFound(p, ref);
      return fd;
    } finally { closeFd(parent); }
  } catch (e: any) {
    if (e.errno === ENOENT || e.errno === 20) throw notFound(p, ref);
    throw e;
  }
}

async function copyOut(ref: string, srcPath: string, dst: string, o: Opts) {
  const s = get(ref);
  const { dot, slash } = shape(srcPath);
  const clean = inContainer(srcPath);
  // the host side first: a bad DEST leaves the container alone
  const local = dst === '-' ? undefined : path.resolve(dst);
  const root = await openContainerRoot(s);
  try {
    const leaf = resolveSource(root.fd, srcPath, o.follow || slash || dot, ref);
    try {
      const isDir = libc.fstat(leaf).isDirectory();
      if ((dot || slash) && !isDir) throw new BoxError(`box cp: ${srcPath}: not a directory`);
      const base = clean === '/' ? '' : path.posix.basename(clean);
      if (local === undefined) return await writeTar(walk(leaf, dot), dot ? '' : base, process.stdout);
      const into = placement(local, dst.endsWith('/'), isDir, dot || !base);
      const baseFd = libc.openat(AT_FDCWD, into.dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, into.dir);
      try {
        const name = into.name ?? base;
        // copied out, files belong to the user of box (Docker), with -a to their owner in the container;
        // without -a no set-uid/set-gid bit survives the change of owner
        const w = new TreeWriter(baseFd, name, { owner: (e: Entry) => (o.archive ? [e.uid, e.gid] : [process.getuid!(), process.getgid!()]), dropSetId: !o.archive, warn });
        copyWalk(walk(leaf, into.contents), w);
      } finally { closeFd(baseFd); }
    } finally { closeFd(leaf); }
  } finally { root.close(); }
}

/**
 * Where a copy onto host path `dest` goes: into the directory `dir` as `name` (undefined: the
 * source's own name), or only the source's contents into `dir`. Docker's rules and words.
 */
function placement(dest: string, slash: boolean, srcDir: boolean, contents: boolean): { dir: string; name?: string; contents: boolean } {
  let st: fs.Stats | undefined;
  try { st = fs.statSync(dest); } catch (e: any) { if (e.code !== 'ENOENT') throw new BoxError(`box cp: ${e.message}`); }
  if (st?.isDirectory()) return contents && srcDir ? { dir: dest, name: '', contents: true } : { dir: dest, contents: false };
  if (st && srcDir) throw new BoxError(`box cp: cannot copy a directory to a file: ${dest}`);
  if (!st && slash && !srcDir) throw new BoxError(`box cp: destination directory ${dest} must exist`);
  const dir = path.dirname(dest);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new BoxError(`box cp: destination directory ${dir} must exist`);
  return { dir, name: path.basename(dest), contents: false };
}

async function copyIn(src: string, ref: string, dstPath: string, o: Opts) {
  const s = get(ref);
  const clean = inContainer(dstPath);
  const { slash } = shape(dstPath);
  let leaf = -1;
  let srcDir = false, base = '';
  const { dot } = shape(src);
  if (src !== '-') {
    const abs = path.resolve(src);
    base = path.basename(abs);
    try {
      leaf = o.follow || dot || src.endsWith('/') ? libc.openat(AT_FDCWD, abs, O_PATH | O_CLOEXEC, 0, abs)
        : libc.openat(AT_FDCWD, abs, O_PATH | O_CLOEXEC | fs.constants.O_NOFOLLOW, 0, abs);
    } catch (e: any) {
      throw new BoxError(`box cp: lstat ${abs}: ${e.errno === ENOENT ? 'no such file or directory' : e.message}`);
    }
    srcDir = libc.fstat(leaf).isDirectory();
  }
  try {
    const root = await openContainerRoot(s);
    try {
      let dest = -1;
      try { dest = resolveIn(root.fd, clean); } catch (e: any) { if (e.errno !== ENOENT && e.errno !== 20) throw e; }
      try {
        const destDir = dest >= 0 && libc.fstat(dest).isDirectory();
        const owner = (e: Entry): [number, number] => (o.archive ? [e.uid, e.gid] : [0, 0]); // copied in: the container's root's, as Docker's
        if (src === '-') {
          if (dest < 0) throw notFound(dstPath, ref);
          if (!destDir) throw new BoxError('box cp: extraction point is not a directory');
          const w = new TreeWriter(dest, '', { owner, warn });
          try { await readTar(process.stdin, (e) => w.put(e)); } finally { w.close(); }
          return;
        }
        if (dest >= 0 && destDir) {
          const contents = dot && srcDir;
          return copyWalk(walk(leaf, contents), new TreeWriter(dest, contents ? '' : base, { owner, warn }));
        }
        if (dest >= 0 && srcDir) throw new BoxError(`box cp: cannot copy a directory to a file: ${dstPath}`);
        if (dest < 0 && slash && !srcDir) throw new BoxError(`box cp: destination directory ${dstPath} must exist`);
        let parent: number;
        try { parent = resolveIn(root.fd, path.posix.dirname(clean)); } catch (e: any) {
          if (e.errno === ENOENT || e.errno === 20) throw notFound(path.posix.dirname(clean), ref);
          throw e;
        }
        try {
          if (!libc.fstat(parent).isDirectory()) throw notFound(path.posix.dirname(clean), ref);
          copyWalk(walk(leaf), new TreeWriter(parent, path.posix.basename(clean), { owner, warn }));
        } finally { closeFd(parent); }
      } finally { if (dest >= 0) closeFd(dest); }
    } finally { root.close(); }
  } finally { if (leaf >= 0) closeFd(leaf); }
}
