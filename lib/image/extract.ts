// Tarball → directory, safely and faithfully. A rootfs keeps absolute symlinks
// (/bin/sh -> /bin/busybox, /etc/mtab -> /proc/mounts) that must stay as they are, which
// node-tar's own path checks would rewrite; so, like Docker's chrootarchive, box unpacks
// in a helper process chrooted into the target, where nothing can resolve to the host.
// On top of that, entries that try to leave the target ("..", absolute names, a hard link
// out, a write through a symlink the archive made) reject the whole archive.
// Layers: OCI whiteouts become overlayfs ones (a 0:0 char device for ".wh.NAME", the
// trusted.overlay.opaque xattr for ".wh..wh..opq"), and are listed in whiteouts.json
// beside the layer for the plain-copy fallback.
// The archive reaches the helper on its stdin, a pipe or a file, and is unpacked as it
// arrives: neither process ever holds it whole (layers of several GiB, bigger than memory).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import { selfArgs, selfEnv } from '../container/launch';
import * as libc from '../libc';
import { mknodat } from '../libc/paths';
import { AT_FDCWD, S_IFCHR } from '../libc/constants';
import { trackHelper } from './temp';

export interface Whiteouts { removed: string[]; opaque: string[] }

const NONE = '{"removed":[],"opaque":[]}';
const lastLine = (text: string, status: number | null) => (text || `unpacking failed (status ${status})`).trim().split('\n').pop()!;
const helperArgs = (dest: string, layer?: boolean) => [...selfArgs(), '__untar', dest, layer ? 'layer' : 'rootfs'];

/**
 * Unpack a tar or tar.gz into the empty directory `dest`, synchronously: `src` is the archive's
 * bytes (the small builtin image) or an open file descriptor the helper reads as its stdin.
 * Throws with the reason when refused.
 */
export function extractTarball(src: Buffer | { fd: number }, dest: string, opts: { layer?: boolean } = {}): Whiteouts {
  const io = Buffer.isBuffer(src) ? { input: src } : { stdio: [src.fd, 'pipe', 'pipe'] as any };
  const r = spawnSync(process.execPath, helperArgs(dest, opts.layer), { ...io, env: selfEnv(), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(lastLine(r.stderr, r.status));
  return JSON.parse(r.stdout || NONE);
}

/**
 * Unpack an archive streamed from `input` (after any transforms: gunzip, hashing) into `dest`.
 * Resolves once the helper has unpacked everything; rejects with the helper's reason, or with
 * the input's own error (a digest or gzip failure) when that came first.
 */
export async function extractStream(input: Readable, transforms: Transform[], dest: string, opts: { layer?: boolean } = {}): Promise<Whiteouts> {
  const child = spawn(process.execPath, helperArgs(dest, opts.layer), { env: selfEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  trackHelper(child);
  let out = '', err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-65536); });
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (e) => { err += `${e.message}\n`; resolve(-1); });
    child.on('close', (code) => resolve(code));
  });
  let fed: any;
  try {
    await pipeline([input, ...transforms, child.stdin!] as any);
  } catch (e) {
    fed = e;
    input.destroy();
  }
  const status = await exited;
  // the helper stopped reading (it refused the archive): its reason, not our EPIPE
  const brokenPipe = fed && (fed.code === 'EPIPE' || fed.code === 'ERR_STREAM_DESTROYED' || fed.code === 'ERR_STREAM_PREMATURE_CLOSE');
  if (fed && !brokenPipe) throw fed;
  if (status !== 0) throw new Error(lastLine(err, status));
  if (fed) throw fed;
  return JSON.parse(out || NONE);
}

/** Why an entry may not be unpacked, or undefined when it may. */
export function unsafeEntry(p: string, type: string, linkpath: string | undefined, symlinks: Set<string>): string | undefined {
  const rel = p.replace(/^(\.\/)+/, '');
  if (rel.startsWith('/')) return `absolute path "${p}"`;
  const parts = rel.split('/').filter((x) => x && x !== '.');
  if (parts.includes('..')) return `path "${p}" leaves the layer ("..")`;
  for (let i = 1; i < parts.length; i++) {
    if (symlinks.has(parts.slice(0, i).join('/'))) return `"${p}" is written through the symlink "${parts.slice(0, i).join('/')}"`;
  }
  if (type === 'Link' && linkpath !== undefined) {
    const lp = linkpath.replace(/^(\.\/)+/, '');
    if (lp.startsWith('/') || lp.split('/').includes('..')) return `hard link "${p}" points outside the layer ("${linkpath}")`;
  }
  return undefined;
}

/**
 * `__untar DEST rootfs|layer`: the helper. Unpacks the archive (tar, or tar.gz: node-tar
 * detects gzip) as it streams in on stdin, prints the whiteouts. Backpressure all the way:
 * a file is written as its blocks arrive, so memory stays flat whatever the archive's size.
 */
export async function untarHelper(dest: string, mode: string): Promise<number> {
  const tar = require('tar') as typeof import('tar'); // loaded before chroot: nothing is required after it
  libc.preloadForUntar();
  const input = process.stdin; // a pipe or a file: its stream class is set up before the chroot too
  // modes exactly as archived (a rootfs's /tmp is 1777), not filtered by the umask of whoever
  // happened to unpack the image first; Docker does the same
  process.umask(0);
  libc.chroot(dest);
  libc.chdir('/');
  const problems: string[] = [];
  const symlinks = new Set<string>();
  const wh: Whiteouts = { removed: [], opaque: [] };
  // node-tar makes no device nodes or FIFOs. FIFOs are made below; device nodes (which every
  // debootstrap rootfs has in /dev) are skipped: a container gets its own /dev, and a device
  // node elsewhere in an image is a way around its device rules that it does not need
  const fifos: { path: string; mode: number; uid: number; gid: number }[] = [];
  await new Promise<void>((resolve, reject) => {
    const x = tar.x({
      // chmod: set the archived mode again after chown, which clears set-uid/set-gid bits
      cwd: '/', preservePaths: true, preserveOwner: process.geteuid?.() === 0, unlink: true, chmod: true,
      filter: (p: string, entry: any) => {
        const why = unsafeEntry(p, entry.type, entry.linkpath, symlinks);
        if (why) { problems.push(why); return false; }
        const rel = p.replace(/^(\.\/)+/, '').replace(/\/$/, '');
        if (entry.type === 'SymbolicLink') symlinks.add(rel);
        if (entry.type === 'CharacterDevice' || entry.type === 'BlockDevice') return false;
        if (entry.type === 'FIFO') { fifos.push({ path: '/' + rel, mode: (entry.mode ?? 0o644) & 0o7777, uid: entry.uid ?? 0, gid: entry.gid ?? 0 }); return false; }
        const base = path.posix.basename(rel);
        if (mode === 'layer' && base.startsWith('.wh.')) {
          const dir = path.posix.dirname(rel);
          if (base === '.wh..wh..opq') wh.opaque.push(dir === '.' ? '' : dir);
          else wh.removed.push(path.posix.join(dir, base.slice(4)));
          return false;
        }
        return true;
      },
      onwarn: (code: string, message: string) => { if (code !== 'TAR_ENTRY_INFO') problems.push(message); },
    } as any);
    x.on('error', reject);
    x.on('close', resolve);
    input.on('error', reject);
    input.pipe(x);
  }).catch((e) => problems.push(e.message));
  if (problems.length) {
    process.stderr.write(`invalid archive: ${problems[0]}\n`);
    return 1;
  }
  for (const f of fifos) {
    fs.mkdirSync(path.posix.dirname(f.path), { recursive: true });
    fs.rmSync(f.path, { recursive: true, force: true });
    libc.mkfifo(f.path, f.mode);
    if (process.geteuid?.() === 0) fs.lchownSync(f.path, f.uid, f.gid);
    fs.chmodSync(f.path, f.mode);
  }
  for (const d of wh.opaque) {
    fs.mkdirSync('/' + d, { recursive: true });
    libc.setxattr('/' + d, 'trusted.overlay.opaque', 'y');
  }
  for (const f of wh.removed) {
    fs.mkdirSync(path.posix.dirname('/' + f), { recursive: true });
    fs.rmSync('/' + f, { recursive: true, force: true });
    mknodat(AT_FDCWD, '/' + f, S_IFCHR, 0); // overlayfs' whiteout: a character device 0:0
  }
  process.stdout.write(JSON.stringify(wh));
  return 0;
}
