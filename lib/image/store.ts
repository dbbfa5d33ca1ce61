// The image store, content-addressed:
//   images/blobs/sha256/<hex>          verified blobs: compressed layers, configs, manifests
//   images/layers/<diffid hex>/        a layer unpacked once (rootfs/ + whiteouts.json),
//                                      shared read-only by every image and container using it
//   images/records/<config hex>.json   an image: its tags, layers bottom-up, its config
// Everything lands under a temporary name and is renamed into place, so a failure leaves
// nothing half-written; changes to records happen under a lock.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import { IMAGES } from '../state/paths';
import { extractTarball, Whiteouts } from './extract';
import { withLock } from '../state/lock';
import { BoxError } from '../libc/errors';
import { writeFileAtomic } from '../util/atomic';

export interface OciConfig {
  architecture?: string; os?: string; created?: string;
  config?: { Entrypoint?: string[] | null; Cmd?: string[] | null; Env?: string[] | null; WorkingDir?: string; User?: string };
  rootfs: { type: string; diff_ids: string[] };
}
export interface ImageRecord { id: string; repoTags: string[]; layers: string[]; config: OciConfig; created: string; size: number }

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

export const hasBlob = (digest: string) => fs.existsSync(blobPath(digest));
export const readBlob = (digest: string) => fs.readFileSync(blobPath(digest));

/** Unpack a layer (gzip or plain tar) once; its uncompressed digest must be the config's diff_id. */
export function unpackLayer(bytes: Buffer, diffId: string): string {
  const dir = layerDir(diffId);
  if (fs.existsSync(dir)) return dir;
  const plain = bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib.gunzipSync(bytes) : bytes;
  if (sha256(plain) !== diffId) throw new BoxError(`layer ${diffId}: uncompressed digest mismatch (got ${sha256(plain)})`);
  fs.mkdirSync(LAYERS, { recursive: true, mode: 0o700 });
  const tmp = fs.mkdtempSync(path.join(LAYERS, '.tmp-'));
  try {
    fs.mkdirSync(path.join(tmp, 'rootfs'), { mode: 0o755 });
    let wh: Whiteouts;
    try {
      wh = extractTarball(plain, path.join(tmp, 'rootfs'), { layer: true });
    } catch (e: any) {
      throw new BoxError(`layer ${diffId.slice(0, 19)}: ${e.message}`);
    }
    fs.writeFileSync(path.join(tmp, 'whiteouts.json'), JSON.stringify(wh));
    // A whole tree renamed into place, not writeFileAtomic: other boxes see the layer all
    // or not at all, but its thousands of files are not fsync'ed one by one (seconds per
    // layer); the blobs and records are, so what a power loss can cost is a layer to unpack.
    try { fs.renameSync(tmp, dir); } catch (e) { if (!fs.existsSync(dir)) throw e; }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
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
  withLock('images', () => {
    fs.rmSync(path.join(RECORDS, `${hex(rec.id)}.json`), { force: true });
    const keep = new Set(records().flatMap((r) => r.layers.map(hex)));
    for (const l of rec.layers) if (!keep.has(hex(l))) fs.rmSync(layerDir(l), { recursive: true, force: true });
    fs.rmSync(blobPath(rec.id), { force: true });
  });
}

/** Overlay lowerdirs, top layer first. */
export function lowerDirs(rec: ImageRecord): string[] {
  return rec.layers.map((l) => path.join(layerDir(l), 'rootfs')).reverse();
}
