// box import FILE|DIR [REPO[:TAG]]: images from where users have them — an OCI image
// layout (a directory, or a tar of one), a `docker save` archive, or a plain rootfs
// tarball (one layer, like `docker import`). Every blob is checked against its digest.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { putBlob, unpackLayer, saveImage, sha256, normalizeTag, OciConfig } from './store';
import { extractTarball } from './extract';
import { platformArch } from './registry';
import { BUILTIN_CONFIG } from './builtin';
import { BoxError } from '../libc/errors';
import { readFileIn } from '../mount/resolve';

export function importImage(src: string, tag?: string): string {
  let st: fs.Stats;
  try { st = fs.statSync(src); } catch { throw new BoxError(`box import: ${src}: no such file or directory`); }
  if (st.isDirectory()) {
    if (!fs.existsSync(path.join(src, 'oci-layout'))) throw new BoxError(`box import: ${src}: a directory must be an OCI image layout (it has no oci-layout file)`);
    return fromOciLayout(src, tag);
  }
  const raw = fs.readFileSync(src);
  const plain = raw[0] === 0x1f && raw[1] === 0x8b ? zlib.gunzipSync(raw) : raw;
  const names = tarNames(plain);
  if (names.has('manifest.json') || names.has('oci-layout')) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-import-'));
    try {
      extractTarball(plain, tmp);
      return names.has('oci-layout') ? fromOciLayout(tmp, tag) : fromDockerArchive(tmp, tag);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  return fromRootfsTarball(plain, tag);
}

/** The names at an archive's top level (ustar headers read directly: no extraction needed). */
function tarNames(tar: Buffer): Set<string> {
  const names = new Set<string>();
  for (let off = 0; off + 512 <= tar.length;) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const field = (o: number, l: number) => h.subarray(o, o + l).toString('latin1').replace(/\0.*$/s, '');
    const name = (field(345, 155) ? field(345, 155) + '/' : '') + field(0, 100);
    names.add(name.replace(/^\.\//, ''));
    const size = parseInt(field(124, 12).trim() || '0', 8);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

/**
 * A file named inside an archive or layout (manifest.json's Config and Layers, blobs/ALG/HEX):
 * a relative path that stays inside `dir`, read inside it (a symlink the archive carries is
 * followed inside, never to the host), a regular file. Anything else refuses the import.
 */
function readInside(dir: string, rel: unknown, what: string, max = Infinity): Buffer {
  if (typeof rel !== 'string' || !rel || rel.startsWith('/') || rel.split('/').includes('..')) {
    throw new BoxError(`box import: ${what} path ${JSON.stringify(rel)} leaves the archive`);
  }
  let b: Buffer | undefined;
  try { b = readFileIn(dir, rel, max); } catch (e: any) { throw new BoxError(`box import: ${what} ${e.message}`); }
  if (!b) throw new BoxError(`box import: ${what} ${rel} is missing from the archive`);
  return b;
}

const MAX_JSON = 16 << 20;
const DIGEST = /^sha256:[a-f0-9]{64}$/; // the only algorithm box stores; also keeps the blob path inside blobs/

function blobFile(dir: string, digest: unknown): Buffer {
  if (typeof digest !== 'string' || !DIGEST.test(digest)) throw new BoxError(`box import: invalid digest ${JSON.stringify(digest)} in the layout`);
  return readInside(dir, path.posix.join('blobs', ...digest.split(':')), `blob ${digest}:`);
}

function fromOciLayout(dir: string, tag?: string): string {
  const index = JSON.parse(readInside(dir, 'index.json', 'index.json:', MAX_JSON).toString());
  let desc = index.manifests?.find((d: any) => !tag || d.annotations?.['org.opencontainers.image.ref.name'] === tag.split(':').pop()) ?? index.manifests?.[0];
  if (!desc) throw new BoxError(`box import: ${dir}: index.json lists no image`);
  let manifest = JSON.parse(putBlobText(blobFile(dir, desc.digest), desc.digest));
  if (manifest.manifests) {
    desc = manifest.manifests.find((d: any) => d.platform?.os === 'linux' && d.platform.architecture === platformArch());
    if (!desc) throw new BoxError(`box import: ${dir}: no linux/${platformArch()} image in the index`);
    manifest = JSON.parse(putBlobText(blobFile(dir, desc.digest), desc.digest));
  }
  const config: OciConfig = JSON.parse(putBlobText(blobFile(dir, manifest.config.digest), manifest.config.digest));
  const layers = manifest.layers.map((l: any) => { const b = blobFile(dir, l.digest); putBlob(b, l.digest, l.size); return b; });
  const refName = index.manifests?.[0]?.annotations?.['org.opencontainers.image.ref.name'];
  return finish(config, manifest.config.digest, layers, tag ?? (refName ? `imported:${refName}` : undefined));
}

function fromDockerArchive(dir: string, tag?: string): string {
  const [entry] = JSON.parse(readInside(dir, 'manifest.json', 'manifest.json:', MAX_JSON).toString());
  if (!entry?.Config) throw new BoxError('box import: manifest.json names no image');
  const configBytes = readInside(dir, entry.Config, 'manifest.json: Config', MAX_JSON);
  const configDigest = sha256(configBytes);
  putBlob(configBytes, configDigest);
  if (!Array.isArray(entry.Layers)) throw new BoxError('box import: manifest.json: Layers is not a list');
  const layers = entry.Layers.map((l: unknown) => { const b = readInside(dir, l, 'manifest.json: layer'); putBlob(b, sha256(b)); return b; });
  return finish(JSON.parse(configBytes.toString()), configDigest, layers, tag ?? entry.RepoTags?.[0]);
}

function fromRootfsTarball(tar: Buffer, tag?: string): string {
  const diffId = sha256(tar);
  putBlob(tar, diffId);
  const config: OciConfig = {
    architecture: platformArch(), os: 'linux', created: new Date().toISOString(),
    config: { Env: BUILTIN_CONFIG.Env }, rootfs: { type: 'layers', diff_ids: [diffId] },
  };
  const bytes = Buffer.from(JSON.stringify(config));
  const digest = sha256(bytes);
  putBlob(bytes, digest);
  return finish(config, digest, [tar], tag);
}

function putBlobText(b: Buffer, digest: string): string {
  putBlob(b, digest);
  return b.toString();
}

function finish(config: OciConfig, id: string, layers: Buffer[], tag?: string): string {
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) throw new BoxError(`box import: the config lists ${diffIds.length} layers, the archive has ${layers.length}`);
  layers.forEach((b, i) => {
    try { unpackLayer(b, diffIds[i]); } catch (e: any) { throw new BoxError(`box import: ${e.message}`); }
  });
  const repoTags = tag ? [normalizeTag(tag)] : [];
  saveImage({ id, repoTags, layers: diffIds, config, created: config.created ?? new Date().toISOString(), size: layers.reduce((a, b) => a + b.length, 0) });
  return id;
}
