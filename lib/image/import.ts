// box import FILE|DIR [REPO[:TAG]]: images from where users have them — an OCI image
// layout (a directory, or a tar of one), a `docker save` archive, or a plain rootfs
// tarball (one layer, like `docker import`). Every blob is checked against its digest.
// Nothing is read whole: an archive's members are found by seeking from header to header
// (tarindex.ts) and streamed from where they lie; a gzipped archive is decompressed once,
// streaming, into a temp file in the store (removed on every path, and on SIGINT/SIGTERM).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as crypto from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { putBlob, putBlobStream, unpackLayerFile, saveImage, sha256, normalizeTag, busy, isGzip, rangeStream, blobPath, BLOBS, Range, OciConfig } from './store';
import { tarIndex, lookup, Member } from './tarindex';
import { track, discard } from './temp';
import { platformArch } from './registry';
import { BUILTIN_CONFIG } from './builtin';
import { BoxError } from '../libc/errors';
import { withResolved } from '../mount/resolve';
import { procFd } from '../libc/paths';

export function importImage(src: string, tag?: string): Promise<string> {
  return busy(() => importAny(src, tag));
}

async function importAny(src: string, tag?: string): Promise<string> {
  let st: fs.Stats;
  try { st = fs.statSync(src); } catch { throw new BoxError(`box import: ${src}: no such file or directory`); }
  if (st.isDirectory()) {
    if (!fs.existsSync(path.join(src, 'oci-layout'))) throw new BoxError(`box import: ${src}: a directory must be an OCI image layout (it has no oci-layout file)`);
    return fromOciLayout(dirSource(src), src, tag);
  }
  let plain = src, spool: string | undefined;
  try {
    if (isGzip(src)) {
      // a tar.gz cannot be read by seeking: decompress it once, next to the blobs (the same
      // filesystem as the store, not a /tmp that may be memory)
      fs.mkdirSync(BLOBS, { recursive: true, mode: 0o700 });
      plain = spool = track(path.join(BLOBS, `.tmp-import-${process.pid}-${crypto.randomBytes(6).toString('hex')}`));
      await pipeline(fs.createReadStream(src, { highWaterMark: 1 << 20 }), zlib.createGunzip(), fs.createWriteStream(spool, { flags: 'wx', mode: 0o600 }))
        .catch((e) => { throw new BoxError(`box import: ${src}: ${e.message}`); });
    }
    let index: Map<string, Member>;
    try { index = tarIndex(plain); } catch (e: any) { throw new BoxError(`box import: ${src}: not a tar archive (${e.message})`); }
    if (index.has('oci-layout')) return await fromOciLayout(archiveSource(plain, index), src, tag);
    if (index.has('manifest.json')) return await fromDockerArchive(archiveSource(plain, index), tag);
    return await fromRootfsTarball(plain, fs.statSync(plain).size, tag);
  } finally {
    if (spool) discard(spool);
  }
}

/** Where a file of the layout or archive lies: a file (an archive, or /proc/self/fd/N of an opened one) and a range in it. */
interface Located { file: string; range?: Range; size: number; close: () => void }
/** A layout directory or an archive: files read small (JSON) or located for streaming. */
interface Source { locate(rel: string, what: string): Located | undefined }

/** Files of a layout directory, opened inside it: a symlink the layout carries is followed inside, never to the host. */
function dirSource(dir: string): Source {
  return {
    locate(rel, what) {
      let fd: number;
      try {
        fd = withResolved(dir, rel, {}, (pathFd) => fs.openSync(procFd(pathFd), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
      } catch (e: any) {
        if (e.errno === 2 || e.code === 'ENOENT') return undefined;
        throw e;
      }
      const st = fs.fstatSync(fd);
      if (!st.isFile()) { fs.closeSync(fd); throw new Error(`${rel}: not a regular file`); }
      return { file: procFd(fd), size: st.size, close: () => fs.closeSync(fd) };
    },
  };
}

function archiveSource(file: string, index: Map<string, Member>): Source {
  return {
    locate(rel) {
      const m = lookup(index, rel);
      return m && { file, range: { start: m.offset, size: m.size }, size: m.size, close: () => {} };
    },
  };
}

/**
 * A file named inside an archive or layout (manifest.json's Config and Layers, blobs/ALG/HEX):
 * a relative path that stays inside it, found inside it, a regular file. Anything else refuses the import.
 */
function locateInside(src: Source, rel: unknown, what: string): Located {
  if (typeof rel !== 'string' || !rel || rel.startsWith('/') || rel.split('/').includes('..')) {
    throw new BoxError(`box import: ${what} path ${JSON.stringify(rel)} leaves the archive`);
  }
  let l: Located | undefined;
  try { l = src.locate(rel, what); } catch (e: any) { throw new BoxError(`box import: ${what} ${e.message}`); }
  if (!l) throw new BoxError(`box import: ${what} ${rel} is missing from the archive`);
  return l;
}

const MAX_JSON = 16 << 20;
const DIGEST = /^sha256:[a-f0-9]{64}$/; // the only algorithm box stores; also keeps the blob path inside blobs/

/** A small file (JSON), read whole. */
function readInside(src: Source, rel: unknown, what: string): Buffer {
  const l = locateInside(src, rel, what);
  try {
    if (l.size > MAX_JSON) throw new BoxError(`box import: ${what} ${rel}: larger than ${MAX_JSON} bytes`);
    const fd = fs.openSync(l.file, 'r');
    try {
      const b = Buffer.alloc(l.size);
      let n = 0;
      while (n < l.size) { const r = fs.readSync(fd, b, n, l.size - n, (l.range?.start ?? 0) + n); if (!r) break; n += r; }
      return b.subarray(0, n);
    } finally { fs.closeSync(fd); }
  } finally { l.close(); }
}

function blobRel(digest: unknown): string {
  if (typeof digest !== 'string' || !DIGEST.test(digest)) throw new BoxError(`box import: invalid digest ${JSON.stringify(digest)} in the layout`);
  return path.posix.join('blobs', ...digest.split(':'));
}

/** A JSON blob of the layout, checked and stored. */
function jsonBlob(src: Source, digest: unknown): any {
  const b = readInside(src, blobRel(digest), `blob ${digest}:`);
  putBlob(b, digest as string);
  return JSON.parse(b.toString());
}

/** A layer blob, streamed from where it lies into the store, checked against `digest` (when known) and size. */
async function storeLayerBlob(l: Located, digest?: string, size?: number): Promise<{ digest: string; size: number }> {
  try {
    const r = await putBlobStream(rangeStream(l.file, l.range), { digest, size });
    return { digest: r.digest, size: r.size };
  } finally {
    l.close();
  }
}

async function fromOciLayout(src: Source, name: string, tag?: string): Promise<string> {
  const index = JSON.parse(readInside(src, 'index.json', 'index.json:').toString());
  let desc = index.manifests?.find((d: any) => !tag || d.annotations?.['org.opencontainers.image.ref.name'] === tag.split(':').pop()) ?? index.manifests?.[0];
  if (!desc) throw new BoxError(`box import: ${name}: index.json lists no image`);
  const blobs = [desc.digest];
  let manifest = jsonBlob(src, desc.digest);
  if (manifest.manifests) {
    desc = manifest.manifests.find((d: any) => d.platform?.os === 'linux' && d.platform.architecture === platformArch());
    if (!desc) throw new BoxError(`box import: ${name}: no linux/${platformArch()} image in the index`);
    manifest = jsonBlob(src, desc.digest);
    blobs.push(desc.digest);
  }
  const config: OciConfig = jsonBlob(src, manifest.config.digest);
  const layers: string[] = [];
  for (const l of manifest.layers) {
    await storeLayerBlob(locateInside(src, blobRel(l.digest), `blob ${l.digest}:`), l.digest, l.size);
    layers.push(l.digest);
  }
  const refName = index.manifests?.[0]?.annotations?.['org.opencontainers.image.ref.name'];
  return finish(config, manifest.config.digest, layers, [...blobs, ...layers], tag ?? (refName ? `imported:${refName}` : undefined));
}

async function fromDockerArchive(src: Source, tag?: string): Promise<string> {
  const [entry] = JSON.parse(readInside(src, 'manifest.json', 'manifest.json:').toString());
  if (!entry?.Config) throw new BoxError('box import: manifest.json names no image');
  const configBytes = readInside(src, entry.Config, 'manifest.json: Config');
  const configDigest = sha256(configBytes);
  putBlob(configBytes, configDigest);
  if (!Array.isArray(entry.Layers)) throw new BoxError('box import: manifest.json: Layers is not a list');
  const found = entry.Layers.map((l: unknown) => locateInside(src, l, 'manifest.json: layer')); // every path checked before any is read
  const layers: string[] = [];
  for (const l of found) layers.push((await storeLayerBlob(l)).digest);
  return finish(JSON.parse(configBytes.toString()), configDigest, layers, layers, tag ?? entry.RepoTags?.[0]);
}

/** A rootfs tarball: one layer, unpacked straight from the file (its diff_id computed on the way). */
async function fromRootfsTarball(tar: string, size: number, tag?: string): Promise<string> {
  let diffId: string;
  try { diffId = await unpackLayerFile(tar); } catch (e: any) { throw new BoxError(`box import: ${e.message}`); }
  const config: OciConfig = {
    architecture: platformArch(), os: 'linux', created: new Date().toISOString(),
    config: { Env: BUILTIN_CONFIG.Env }, rootfs: { type: 'layers', diff_ids: [diffId] },
  };
  const bytes = Buffer.from(JSON.stringify(config));
  const digest = sha256(bytes);
  putBlob(bytes, digest);
  return record(config, digest, [], size, tag);
}

/** Unpack every layer from its stored blob (each checked against its diff_id), then record the image. */
async function finish(config: OciConfig, id: string, layers: string[], blobs: string[], tag?: string): Promise<string> {
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) throw new BoxError(`box import: the config lists ${diffIds.length} layers, the archive has ${layers.length}`);
  let size = 0;
  for (const [i, l] of layers.entries()) {
    size += fs.statSync(blobPath(l)).size;
    try { await unpackLayerFile(blobPath(l), diffIds[i]); } catch (e: any) { throw new BoxError(`box import: ${e.message}`); }
  }
  return record(config, id, blobs, size, tag);
}

function record(config: OciConfig, id: string, blobs: string[], size: number, tag?: string): string {
  const repoTags = tag ? [normalizeTag(tag)] : [];
  saveImage({ id, repoTags, layers: config.rootfs.diff_ids, config, created: config.created ?? new Date().toISOString(), size, blobs: [...new Set(blobs)] });
  return id;
}
