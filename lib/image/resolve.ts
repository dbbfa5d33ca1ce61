// IMAGE → a read-only rootfs directory plus the image's config (Cmd, Env, WorkingDir).
// `busybox` is builtin; a path may be a rootfs directory or a tarball (.tar, .tar.gz, .tgz).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { BoxError } from '../libc/errors';
import { IMAGES } from '../state/paths';
import { BUILTIN, BUILTIN_CONFIG, builtinArchive } from './builtin';
import { extractTarball } from './extract';
import { findImage, lowerDirs, normalizeTag } from './store';

export interface ImageConfig { Entrypoint?: string[]; Cmd: string[]; Env: string[]; WorkingDir: string; User: string }
/** `lower`: the read-only layers, top first (overlayfs' lowerdir order); `rootfs` is the top one. */
export interface Image { name: string; rootfs: string; lower: string[]; config: ImageConfig }

const PLAIN_CONFIG: ImageConfig = { Cmd: [], Env: BUILTIN_CONFIG.Env, WorkingDir: '', User: '' };

export function resolveImage(ref: string): Image {
  const stored = !ref.startsWith('/') && !ref.startsWith('.') ? findImage(ref) : undefined;
  if (stored) {
    const c = stored.config.config ?? {};
    const lower = lowerDirs(stored);
    return {
      name: stored.repoTags.includes(normalizeTag(ref)) ? normalizeTag(ref) : stored.id.slice(7, 19), rootfs: lower.find((d) => fs.existsSync(path.join(d, 'etc', 'passwd'))) ?? lower[0], lower,
      config: { Entrypoint: c.Entrypoint ?? [], Cmd: c.Cmd ?? [], Env: c.Env ?? BUILTIN_CONFIG.Env, WorkingDir: c.WorkingDir ?? '', User: c.User ?? '' },
    };
  }
  if (ref === BUILTIN || ref === `${BUILTIN}:latest`) {
    const a = builtinArchive();
    const rootfs = unpackOnce(builtinKey(), a.bytes);
    return { name: BUILTIN, rootfs, lower: [rootfs], config: BUILTIN_CONFIG };
  }
  if (!ref.includes('/') && !ref.startsWith('.')) throw new BoxError(`box run: unable to find image "${ref}": not in the store (box images), not the builtin "busybox", not a path (box pull ${ref} fetches it)`);
  const p = path.resolve(ref);
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    // myorg/app looks like a path only to us: a name a Docker user would pull
    if (!ref.startsWith('/') && !ref.startsWith('.')) throw new BoxError(`box run: unable to find image "${ref}": not in the store (box images), and no such path (box pull ${ref} fetches it)`);
    throw new BoxError(`box run: image "${ref}": no such file or directory`);
  }
  if (st.isDirectory()) {
    if (!fs.existsSync(path.join(p, 'bin')) && !fs.existsSync(path.join(p, 'usr'))) throw new BoxError(`box run: image "${ref}": directory does not look like a rootfs (no bin/ or usr/)`);
    return { name: p, rootfs: p, lower: [p], config: PLAIN_CONFIG };
  }
  // hashed in 1 MiB reads and handed to the helper as its stdin: a tarball of any size
  const fd = fs.openSync(p, 'r');
  try {
    const hash = crypto.createHash('sha256');
    const buf = Buffer.alloc(1 << 20);
    // positioned reads: the fd's offset stays at 0 for the helper
    for (let pos = 0, n; (n = fs.readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) hash.update(buf.subarray(0, n));
    const rootfs = unpackOnce(`${TARBALL_PREFIX}${hash.digest('hex').slice(0, 16)}`, () => ({ fd }));
    return { name: p, rootfs, lower: [rootfs], config: PLAIN_CONFIG };
  } finally {
    fs.closeSync(fd);
  }
}

/** The tarball cache: IMAGES/<prefix><hash>/rootfs, one per archive content (the collector's to clean). */
export const TARBALL_PREFIX = 'tar-';
export const builtinKey = () => `${BUILTIN}-${builtinArchive().sha256.slice(0, 16)}`;

/** Unpack into IMAGES/<key>/rootfs exactly once: extract beside it, then rename into place. */
function unpackOnce(key: string, src: () => Buffer | { fd: number }): string {
  const dir = path.join(IMAGES, key);
  const rootfs = path.join(dir, 'rootfs');
  if (fs.existsSync(rootfs)) {
    // used now: the collector leaves recently used entries alone (a container being created
    // has no record naming it yet)
    try { const now = new Date(); fs.utimesSync(dir, now, now); } catch { /* raced with a prune: unpack again */ }
    if (fs.existsSync(rootfs)) return rootfs;
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = fs.mkdtempSync(path.join(dir, 'tmp-'));
  try {
    fs.chmodSync(tmp, 0o755);
    extractTarball(src(), tmp);
    try {
      // a directory renamed into place, not lib/util/atomic.ts's file helper: others see the
      // whole tree or none; its files are not fsync'ed one by one (that would cost seconds)
      fs.renameSync(tmp, rootfs);
    } catch (e: any) {
      if (!fs.existsSync(rootfs)) throw e; // someone else won the race: use theirs
    }
  } catch (e: any) {
    throw new BoxError(`box run: cannot unpack image into ${dir}: ${e.message}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return rootfs;
}

