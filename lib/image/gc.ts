// The image store's collector (`box image prune`, `box system prune`): images nobody tagged
// (or, with -a, every image no container uses), then whatever no image record and no
// container references — blobs, unpacked layers, the rootfs-tarball cache of resolve.ts —
// and the temp files of imports and pulls that died (.tmp-*, box-import-* of older boxes).
// All under the images lock. Never removed: a layer or cached rootfs that any container
// record (running or not) has among its overlay lowerdirs; blobs and layers written since
// an import or pull still running began (they have no record yet: store.ts busy()); a
// tarball cache entry used in the last minute (a container being created has no record yet).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IMAGES } from '../state/paths';
import { diskUsage } from '../util/du';
import { withLock } from '../state/lock';
import { list } from '../container/query';
import { records, deleteImageLocked, referencedBlobs, lowerDirs, busySince, normalizeTag, BLOBS, LAYERS, ImageRecord } from './store';
import { TARBALL_PREFIX, builtinKey } from './resolve';
import { BUILTIN } from './builtin';

/** A temp file or directory untouched this long belongs to no live import or pull. */
export const STALE_MS = 5 * 60_000;
/** A tarball cache entry used this recently may be a container's that is being created. */
export const RECENT_MS = 60_000;

export interface PruneResult { images: ImageRecord[]; reclaimed: number }

const hex = (d: string) => d.replace(/^sha256:/, '');

/** Remove images (dangling ones; every unused one with `all`), then collect. Bytes reclaimed: what the store holds less. */
export function pruneImages(opts: { all?: boolean } = {}): PruneResult {
  const containers = list({ all: true });
  const lowers = new Set(containers.flatMap((c) => c.rootfs?.lower ?? []));
  const used = (r: ImageRecord) => lowerDirs(r).some((d) => lowers.has(d))
    || containers.some((c) => c.image === r.id || c.image === r.id.slice(7, 19) || r.repoTags.includes(c.image) || r.repoTags.includes(normalizeTag(c.image)));
  return withLock('images', () => {
    const before = diskUsage(IMAGES);
    const images: ImageRecord[] = [];
    for (const r of records()) {
      if (used(r) || (!opts.all && r.repoTags.length)) continue;
      deleteImageLocked(r);
      images.push(r);
    }
    collect(lowers);
    return { images, reclaimed: Math.max(0, before - diskUsage(IMAGES)) + staleTmp() };
  });
}

/** Everything no record and no container references; the caller holds the images lock. */
function collect(lowers: Set<string>) {
  const recs = records();
  const now = Date.now();
  const since = busySince();
  const mtime = (p: string) => { try { return fs.lstatSync(p).mtimeMs; } catch { return now; } };
  const young = (p: string) => since !== undefined && mtime(p) >= since - 2000;
  const stale = (p: string) => now - mtime(p) > STALE_MS;
  const rm = (p: string) => fs.rmSync(p, { recursive: true, force: true });
  const names = (d: string) => { try { return fs.readdirSync(d); } catch { return []; } };

  const layers = new Set(recs.flatMap((r) => r.layers.map(hex)));
  for (const l of lowers) if (path.dirname(path.dirname(l)) === LAYERS) layers.add(path.basename(path.dirname(l)));
  for (const n of names(LAYERS)) {
    const p = path.join(LAYERS, n);
    if (n.startsWith('.')) { if (stale(p)) rm(p); continue; }
    if (!layers.has(n) && !young(p)) rm(p);
  }
  const blobs = new Set(recs.flatMap(referencedBlobs).map(hex));
  for (const n of names(BLOBS)) {
    const p = path.join(BLOBS, n);
    if (n.startsWith('.')) { if (stale(p)) rm(p); continue; } // .tmp-* and writeFileAtomic's .NAME.PID.RAND.tmp
    if (!blobs.has(n) && !young(p)) rm(p);
  }
  // resolve.ts's cache: IMAGES/tar-<hash>/rootfs (rootfs tarballs run by path), IMAGES/busybox-<hash>/ (the builtin)
  const builtin = builtinKey();
  for (const n of names(IMAGES)) {
    if (!n.startsWith(TARBALL_PREFIX) && !n.startsWith(`${BUILTIN}-`)) continue;
    const dir = path.join(IMAGES, n);
    for (const t of names(dir)) if (t.startsWith('tmp-') && stale(path.join(dir, t))) rm(path.join(dir, t));
    if (n === builtin || lowers.has(path.join(dir, 'rootfs')) || now - mtime(dir) < RECENT_MS) continue;
    rm(dir);
  }
}

/** What older boxes unpacked archives into: os.tmpdir()/box-import-*, once stale. Its bytes. */
function staleTmp(): number {
  let bytes = 0;
  let ns: string[] = [];
  try { ns = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('box-import-')); } catch { return 0; }
  for (const n of ns) {
    const p = path.join(os.tmpdir(), n);
    try {
      const st = fs.lstatSync(p);
      if (!st.isDirectory() || st.uid !== process.geteuid?.() || Date.now() - st.mtimeMs <= STALE_MS) continue;
      bytes += diskUsage(p);
      fs.rmSync(p, { recursive: true, force: true });
    } catch { /* raced away */ }
  }
  return bytes;
}

