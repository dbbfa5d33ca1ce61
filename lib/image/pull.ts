// box pull: manifest (an index picks this host's platform) → config → layers, each blob
// checked against its digest and size before it is stored, each layer unpacked once.
// Blobs stream from the socket to a file in the store (hashed on the way) and layers from
// that file to the untar helper: a layer bigger than memory pulls in constant memory.
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { Registry, MEDIA, platformArch } from './registry';
import { parseReference, familiarName } from './reference';
import { putBlobStream, hasBlob, blobPath, unpackLayerFile, saveImage, sha256, busy, OciConfig } from './store';
import { Progress } from './progress';
import { BoxError } from '../libc/errors';

interface Descriptor { mediaType: string; digest: string; size: number; platform?: { os: string; architecture: string; variant?: string } }

export async function pullImage(refText: string, opts: { insecure: boolean; out: NodeJS.WriteStream }): Promise<string> {
  return busy(() => pull(refText, opts));
}

async function pull(refText: string, opts: { insecure: boolean; out: NodeJS.WriteStream }): Promise<string> {
  let ref;
  try { ref = parseReference(refText, opts.insecure); } catch (e: any) { throw new BoxError(`box pull: ${e.message}`); }
  const reg = new Registry(ref);
  const name = familiarName(ref);
  const fail = (e: any): never => { throw new BoxError(`box pull ${refText}: ${e.message}`); };
  opts.out.write(`${ref.tag ?? ref.digest}: Pulling from ${ref.registry === 'docker.io' ? ref.repository : `${ref.registry}/${ref.repository}`}\n`);
  let m = await reg.manifest(ref.digest ?? ref.tag!).catch(fail);
  if (ref.digest && sha256(m.body) !== ref.digest) fail(new Error(`manifest digest mismatch (got ${sha256(m.body)})`));
  let manifest = JSON.parse(m.body.toString());
  const type = manifest.mediaType ?? m.mediaType;
  if (type === MEDIA.ociIndex || type === MEDIA.dockerList || manifest.manifests) {
    const arch = platformArch();
    const pick: Descriptor | undefined = manifest.manifests.find((d: Descriptor) => d.platform?.os === 'linux' && d.platform.architecture === arch && (!d.platform.variant || arch !== 'arm64' || d.platform.variant === 'v8'));
    if (!pick) fail(new Error(`no linux/${arch} image in ${name} (it has ${manifest.manifests.map((d: Descriptor) => `${d.platform?.os}/${d.platform?.architecture}`).join(', ')})`));
    m = await reg.manifest(pick!.digest).catch(fail);
    if (sha256(m.body) !== pick!.digest) fail(new Error(`manifest ${pick!.digest}: digest mismatch`));
    manifest = JSON.parse(m.body.toString());
  }
  const manifestDigest = sha256(m.body);
  const configDesc: Descriptor = manifest.config;
  const layers: Descriptor[] = manifest.layers ?? [];
  if (configDesc.size > MAX_CONFIG) fail(new Error(`config ${configDesc.digest}: ${configDesc.size} bytes is too big for an image config`));
  if (!hasBlob(configDesc.digest)) await fetchBlob(reg, configDesc).catch(fail);
  const config: OciConfig = JSON.parse(fs.readFileSync(blobPath(configDesc.digest), 'utf8'));
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) fail(new Error(`the config lists ${diffIds.length} layers, the manifest ${layers.length}`));
  const progress = new Progress(opts.out, layers.map((l) => l.digest.slice(7, 19)));
  try {
    for (const [i, l] of layers.entries()) {
      if (!hasBlob(l.digest)) await fetchBlob(reg, l, (n) => progress.update(i, `Downloading ${bar(n, l.size)}`)).catch(fail);
      progress.update(i, 'Extracting');
      await unpackLayerFile(blobPath(l.digest), diffIds[i]).catch(fail);
      progress.done(i, 'Pull complete');
    }
  } finally {
    progress.end();
  }
  saveImage({ id: configDesc.digest, repoTags: ref.tag ? [name] : [], layers: diffIds, config, created: config.created ?? new Date().toISOString(), size: layers.reduce((a, l) => a + l.size, 0) });
  opts.out.write(`Digest: ${manifestDigest}\nStatus: Downloaded image for ${name}\n`);
  return configDesc.digest;
}

const MAX_CONFIG = 16 << 20;

/** A blob, streamed to the store and hashed on the way, kept only if its digest and size are right. */
async function fetchBlob(reg: Registry, d: Descriptor, onBytes?: (n: number) => void): Promise<void> {
  const res = await reg.blob(d.digest);
  if (!res.body) throw new Error(`blob ${d.digest}: the registry sent no body`);
  await putBlobStream(Readable.from(res.body as any as AsyncIterable<Uint8Array>), { digest: d.digest, size: d.size, onBytes });
}

function bar(n: number, total: number): string {
  const w = 30, f = total ? Math.round((w * n) / total) : w;
  return `[${'='.repeat(Math.max(0, f - 1))}${f ? '>' : ''}${' '.repeat(w - f)}] ${(n / 1e6).toFixed(1)}MB/${(total / 1e6).toFixed(1)}MB`;
}
