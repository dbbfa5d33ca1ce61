// The image store, content-addressed:
//   images/blobs/sha256/<hex>          verified blobs: compressed layers, configs, manifests
//   images/layers/<diffid hex>/        a layer unpacked once (rootfs/ + whiteouts.json),
//                                      shared read-only by every image and container using it
//   images/records/<config hex>.json   an image: its tags, layers bottom-up, its config
// Everything lands under a temporary name (.tmp-*) and is renamed into place, so a failure
// leaves nothing half-written; changes to records happen under a lock. Blobs and layers are
// streamed and hashed as they are written: their size is not bounded by memory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IMAGES } from '../state/paths';
import { extractStream, Whiteouts } from './extract';
import { track, discard, kept } from './temp';
import { withLock } from '../state/lock';
import { BoxError } from '../libc/errors';
import { writeFileAtomic } from '../util/atomic';
import { processStart } from '../util/proc';

export interface OciConfig {
  architecture?: string; os?: string; created?: string;
  config?: { Entrypoint?: string[] | null; Cmd?: string[] | null; Env?: string[] | null; WorkingDir?: string; User?: string };
  rootfs: { type: string; diff_ids: string[] };
}
/** `blobs`: the stored blobs this image came from besides its config (compressed layers, manifests), for the collector. */
export interface ImageRecord { id: string; repoTags: string[]; layers: string[]; config: OciConfig; created: string; size: number; blobs?: string[] }

export const BLOBS = path.join(IMAGES, 'blobs', 'sha256');
export const LAYERS = path.join(IMAGES, 'layers');
export const RECORDS = path.join(IMAGES, 'records');
const hex = (digest: string) => digest.replace(/^sha256:/, '');
export const blobPath = (digest: string) => path.join(BLOBS, hex(digest));
export const layerDir = (diffId: string) => path.join(LAYERS, hex(diffId));

export function sha256(b: Buffer): string {
  return 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');
}

/** Store a blob after checking its digest (and size, when known). */
export function putBlob(bytes: Buffer, digest: string, size?: number): string {
  if (size !== undefined && bytes.length !== size) throw new BoxError(`blob ${digest}: size mismatch (expected ${size} bytes, got ${bytes.length})`);
  const got = sha256(bytes);
  if (got !== digest) throw new BoxError(`blob ${digest}: digest mismatch (got ${got})`);
  const file = blobPath(digest);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(BLOBS, { recursive: true, mode: 0o700 });
    writeFileAtomic(file, bytes, 0o600);
  }
  return file;
}

/** An existing blob, marked as just used (a prune running beside this pull keeps it: see busy()). */
export function hasBlob(digest: string): boolean {
  try { touch(blobPath(digest)); return true; } catch { return false; }
}
const touch = (p: string) => { const now = new Date(); fs.utimesSync(p, now, now); };

/** A pass-through stream that hashes (and counts) what flows through it. */
export function hashing(onBytes?: (total: number) => void): Transform & { digest: () => string; size: () => number } {
  const h = crypto.createHash('sha256');
  let n = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      n += chunk.length;
      try { onBytes?.(n); } catch (e: any) { return cb(e); }
      cb(null, chunk);
    },
  });
  let d: string | undefined;
  return Object.assign(t, { digest: () => (d ??= 'sha256:' + h.digest('hex')), size: () => n });
}

/**
 * Store a blob streamed from `src` (a file, an HTTP body, a decompressor): written to a temp
 * file in the blob directory while hashed, renamed into place only if its digest (and size,
 * when given) are right, removed otherwise. With no `digest`, whatever it hashes to is kept.
 * `size` is also a ceiling: a source that sends more is cut off at once.
 */
export async function putBlobStream(src: Readable, want: { digest?: string; size?: number; onBytes?: (n: number) => void; transforms?: Transform[] } = {}): Promise<{ digest: string; size: number; file: string }> {
  fs.mkdirSync(BLOBS, { recursive: true, mode: 0o700 });
  const tmp = track(path.join(BLOBS, `.tmp-${process.pid}-${crypto.randomBytes(6).toString('hex')}`));
  try {
    const h = hashing((n) => {
      if (want.size !== undefined && n > want.size) throw new BoxError(`blob ${want.digest}: more than the ${want.size} bytes the manifest says`);
      want.onBytes?.(n);
    });
    await pipeline([src, ...(want.transforms ?? []), h, fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600 })] as any);
    const digest = h.digest();
    if (want.size !== undefined && h.size() !== want.size) throw new BoxError(`blob ${want.digest}: size mismatch (expected ${want.size} bytes, got ${h.size()})`);
    if (want.digest && digest !== want.digest) throw new BoxError(`blob ${want.digest}: digest mismatch (got ${digest})`);
    const file = blobPath(digest);
    fs.renameSync(tmp, file); // the same content if another box stored it meanwhile
    kept(tmp);
    return { digest, size: h.size(), file };
  } finally {
    discard(tmp);
  }
}

/** A blob as a stream. */
export const blobStream = (digest: string) => fs.createReadStream(blobPath(digest));

/** A part of a file: an archive's member (the whole file when no range is given). */
export interface Range { start: number; size: number }
export const rangeStream = (file: string, r?: Range) =>
  r && r.size === 0 ? Readable.from([]) : fs.createReadStream(file, { highWaterMark: 1 << 20, ...(r ? { start: r.start, end: r.start + r.size - 1 } : {}) });

export function isGzip(file: string, r?: Range): boolean {
  const fd = fs.openSync(file, 'r');
  try { const b = Buffer.alloc(2); return (!r || r.size >= 2) && fs.readSync(fd, b, 0, 2, r?.start ?? 0) === 2 && b[0] === 0x1f && b[1] === 0x8b; } finally { fs.closeSync(fd); }
}

/**
 * Unpack a layer from a file (gzip or plain tar, a stored blob) once, streaming: the file is
 * decompressed, hashed and fed to the untar helper in one pass. Its uncompressed digest must
 * be `diffId`; with no diffId (a rootfs tarball) it is computed. Returns the diff_id.
 */
export async function unpackLayerFile(file: string, diffId?: string, range?: Range): Promise<string> {
  if (diffId && fs.existsSync(layerDir(diffId))) { touch(layerDir(diffId)); return diffId; }
  fs.mkdirSync(LAYERS, { recursive: true, mode: 0o700 });
  const tmp = track(fs.mkdtempSync(path.join(LAYERS, '.tmp-')));
  try {
    fs.mkdirSync(path.join(tmp, 'rootfs'), { mode: 0o755 });
    const h = hashing();
    let wh: Whiteouts;
    try {
      wh = await extractStream(rangeStream(file, range), [...(isGzip(file, range) ? [zlib.createGunzip()] : []), h], path.join(tmp, 'rootfs'), { layer: true });
    } catch (e: any) {
      throw new BoxError(`layer ${(diffId ?? 'sha256:').slice(0, 19)}: ${e.message}`);
    }
    const got = h.digest();
    if (diffId && got !== diffId) throw new BoxError(`layer ${diffId}: uncompressed digest mismatch (got ${got})`);
    fs.writeFileSync(path.join(tmp, 'whiteouts.json'), JSON.stringify(wh));
    // A whole tree renamed into place, not writeFileAtomic: other boxes see the layer all
    // or not at all, but its thousands of files are not fsync'ed one by one (seconds per
    // layer); the blobs and records are, so what a power loss can cost is a layer to unpack.
    const dir = layerDir(got);
    try { fs.renameSync(tmp, dir); kept(tmp); } catch (e) { if (!fs.existsSync(dir)) throw e; }
    return got;
  } finally {
    discard(tmp);
  }
}

const BUSY = path.join(IMAGES, '.busy');

/**
 * Run an import or pull marked as in progress: a prune meanwhile keeps every unreferenced
 * blob and layer written since it began (they have no image record yet).
 */
export async function busy<T>(fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(BUSY, { recursive: true, mode: 0o700 });
  const mark = path.join(BUSY, `${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  fs.writeFileSync(mark, `${process.pid} ${processStart(process.pid)}`);
  track(mark);
  try { return await fn(); } finally { discard(mark); }
}

/** When the oldest import or pull still running began (ms), or undefined; stale marks are removed. */
export function busySince(): number | undefined {
  let oldest: number | undefined;
  let names: string[] = [];
  try { names = fs.readdirSync(BUSY); } catch { return undefined; }
  for (const n of names) {
    const p = path.join(BUSY, n);
    try {
      const [pid, start] = fs.readFileSync(p, 'utf8').split(' ');
      if (processStart(Number(pid)) !== start) { fs.rmSync(p, { force: true }); continue; }
      const t = fs.statSync(p).mtimeMs;
      oldest = Math.min(oldest ?? t, t);
    } catch { /* raced away */ }
  }
  return oldest;
}

export function records(): ImageRecord[] {
  let files: string[] = [];
  try { files = fs.readdirSync(RECORDS).filter((f) => f.endsWith('.json')); } catch { return []; }
  return files.map((f) => { try { return JSON.parse(fs.readFileSync(path.join(RECORDS, f), 'utf8')); } catch { return undefined; } }).filter(Boolean);
}

/** "name" means "name:latest"; an id or unique id prefix works too. */
export function normalizeTag(ref: string): string {
  ref = ref.replace(/^docker\.io\/(library\/)?/, ''); // Docker Hub names are stored as Docker shows them
  const lastSlash = ref.lastIndexOf('/');
  return ref.includes('@') || ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}

export function findImage(ref: string): ImageRecord | undefined {
  const all = records();
  const tag = normalizeTag(ref);
  const byTag = all.find((r) => r.repoTags.includes(tag) || r.repoTags.includes(ref));
  if (byTag) return byTag;
  const id = hex(ref);
  if (/^[0-9a-f]{4,64}$/.test(id)) {
    const m = all.filter((r) => hex(r.id).startsWith(id));
    if (m.length === 1) return m[0];
  }
  return undefined;
}

/** Record an image under its tags; the tags move away from any image that had them. */
export function saveImage(rec: ImageRecord) {
  withLock('images', () => {
    fs.mkdirSync(RECORDS, { recursive: true, mode: 0o700 });
    for (const other of records()) {
      if (other.id === rec.id) { rec.repoTags = [...new Set([...other.repoTags, ...rec.repoTags])]; continue; }
      const kept = other.repoTags.filter((t) => !rec.repoTags.includes(t));
      if (kept.length !== other.repoTags.length) writeRecord({ ...other, repoTags: kept });
    }
    writeRecord(rec);
  });
}

function writeRecord(rec: ImageRecord) {
  const file = path.join(RECORDS, `${hex(rec.id)}.json`);
  writeFileAtomic(file, JSON.stringify(rec, null, 1), 0o600);
}

/** Take one tag off an image that keeps others. */
export function untag(rec: ImageRecord, tag: string) {
  withLock('images', () => writeRecord({ ...rec, repoTags: rec.repoTags.filter((t) => t !== tag) }));
}

/** Remove an image record, then every layer and blob no remaining image refers to. */
export function deleteImage(rec: ImageRecord) {
  withLock('images', () => deleteImageLocked(rec));
}

/** deleteImage for a caller that holds the images lock already (flock: a second take would wait forever). */
export function deleteImageLocked(rec: ImageRecord) {
  fs.rmSync(path.join(RECORDS, `${hex(rec.id)}.json`), { force: true });
  const keep = new Set(records().flatMap((r) => r.layers.map(hex)));
  for (const l of rec.layers) if (!keep.has(hex(l))) fs.rmSync(layerDir(l), { recursive: true, force: true });
  const blobsKept = new Set(records().flatMap(referencedBlobs).map(hex));
  for (const b of referencedBlobs(rec)) if (!blobsKept.has(hex(b))) fs.rmSync(blobPath(b), { force: true });
}

/** Every blob an image record stands for: its config, its layers (a rootfs tarball's blob is its diff_id) and the blobs it lists. */
export const referencedBlobs = (r: ImageRecord): string[] => [r.id, ...r.layers, ...(r.blobs ?? [])];

/** Overlay lowerdirs, top layer first. */
export function lowerDirs(rec: ImageRecord): string[] {
  return rec.layers.map((l) => path.join(layerDir(l), 'rootfs')).reverse();
}
