// Test images made by hand: an OCI image layout from plain tar layers, and a private
// docker-registry (Debian's, distribution 2.8) on 127.0.0.1 with a temporary store.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import * as crypto from 'node:crypto';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';

const sha = (b: Buffer) => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');

export function ociLayout(dir: string, tag: string, layers: Buffer[], config: object): { manifest: string; layers: string[] } {
  const blobs = path.join(dir, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer) => { const d = sha(b); fs.writeFileSync(path.join(blobs, d.slice(7)), b); return { digest: d, size: b.length }; };
  const gz = layers.map((l) => zlib.gzipSync(l));
  const cfg = Buffer.from(JSON.stringify({ architecture: { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64'], os: 'linux', config, rootfs: { type: 'layers', diff_ids: layers.map(sha) } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(cfg) },
    layers: gz.map((g) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(g) })),
  }));
  const m = put(manifest);
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
  return { manifest: m.digest, layers: gz.map(sha) };
}

/**
 * A multi-platform layout: index.json points at an image index listing one manifest per
 * platform (what `docker buildx` pushes); push it with `skopeo copy --all`.
 */
export function ociIndexLayout(dir: string, tag: string, images: { arch: string; layers: Buffer[]; config: object }[]) {
  const blobs = path.join(dir, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer) => { const d = sha(b); fs.writeFileSync(path.join(blobs, d.slice(7)), b); return { digest: d, size: b.length }; };
  const manifests = images.map(({ arch, layers, config }) => {
    const cfg = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config, rootfs: { type: 'layers', diff_ids: layers.map(sha) } }));
    const m = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(cfg) },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(zlib.gzipSync(l)) })),
    }));
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...put(m), platform: { os: 'linux', architecture: arch } };
  });
  const index = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests })));
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...index, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

export interface TestRegistry { addr: string; storage: string; stop: () => void; proc: ChildProcess }

/**
 * docker-registry on a free loopback port. The port is free when asked but could be taken
 * before the registry binds it (another suite on the host asks too): a registry that exits
 * instead of answering is started again on another port.
 */
export async function startRegistry(dir: string): Promise<TestRegistry> {
  const storage = path.join(dir, 'storage');
  fs.mkdirSync(storage, { recursive: true });
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'config.yml');
    fs.writeFileSync(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`);
    const proc = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
    process.on('exit', () => { try { proc.kill('SIGKILL'); } catch { /* gone */ } });
    let exited = false;
    proc.on('exit', () => { exited = true; });
    const addr = `127.0.0.1:${port}`;
    for (let i = 0; i < 600 && !exited; i++) { // up to 30 s: a loaded host starts it slowly
      try { if ((await fetch(`http://${addr}/v2/`)).ok) return { addr, storage, proc, stop: () => proc.kill('SIGTERM') }; } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill('SIGKILL');
  }
  throw new Error('docker-registry did not start');
}

/** Push an OCI layout to the registry with skopeo (as `docker push` would). */
export function push(layout: string, tag: string, dest: string, all = false) {
  const r = spawnSync('skopeo', ['--insecure-policy', 'copy', '--quiet', ...(all ? ['--all'] : []), '--dest-tls-verify=false', `oci:${layout}:${tag}`, `docker://${dest}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`skopeo copy failed: ${r.stderr}`);
}

export function skopeo(args: string[]) {
  const r = spawnSync('skopeo', ['--insecure-policy', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`skopeo ${args[0]} failed: ${r.stderr}`);
}
