// Images bigger than memory and than 2 GiB import streaming: a 3 GiB rootfs tarball (busybox
// plus one file of zeros, written to disk in 1 MiB writes, never built in memory) is imported
// while the peak RSS (VmHWM) of box and of its __untar helper is read from /proc, and the
// container sees the file whole. Then `box image prune` / `box system prune` remove what
// nothing references — dangling images, blobs, layers, stale temp dirs, cached tarballs —
// and keep what a running container uses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { box, boxAsync, exitOf, needs, TOP, STATE } from '../helpers/box';
import { tarball } from '../helpers/tar';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-stream-'));
const busyboxTar = zlib.gunzipSync(fs.readFileSync(path.join(TOP, 'images/busybox.tar.gz')));
const IMAGES = path.join(STATE, 'images');
const BIG = 3 * 1024 ** 3; // over 2 GiB (Node's readFile limit) and over this machine's free memory budget
const MB = 1024 * 1024;

/** Where an archive's end-of-archive blocks begin: more entries can be appended there. */
function tarEnd(tar: Buffer): number {
  let off = 0;
  while (off + 512 <= tar.length && !tar.subarray(off, off + 512).every((b) => b === 0)) {
    const size = parseInt(tar.subarray(off + 124, off + 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return off;
}
const busyboxBody = busyboxTar.subarray(0, tarEnd(busyboxTar));
/** busybox plus small files: a distinct rootfs tarball (so a distinct layer) per name. */
const rootfsWith = (files: Record<string, string>) => Buffer.concat([busyboxBody, tarball(Object.entries(files).map(([name, data]) => ({ name, data })))]);

/** A ustar header for a regular file of `size` bytes (octal: up to 8 GiB). */
function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const oct = (n: number, off: number, len: number) => h.write(n.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
  h.write(name, 0, 100, 'latin1');
  oct(0o644, 100, 8); oct(0, 108, 8); oct(0, 116, 8); oct(size, 124, 12); oct(0, 136, 12);
  h.write('0', 156, 1, 'latin1');
  h.write('ustar\u000000', 257, 8, 'latin1');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return h;
}

/** Peak RSS (VmHWM, bytes) of `pid` and of every descendant seen while it ran, polled every 50 ms. */
async function peaks(pid: number, done: Promise<unknown>): Promise<Map<string, number>> {
  const peak = new Map<string, number>();
  const read = (p: number) => { try { return fs.readFileSync(`/proc/${p}/status`, 'utf8'); } catch { return ''; } };
  const descendants = (root: number): number[] => {
    const parent = new Map<number, number>();
    for (const e of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      try { parent.set(Number(e), Number(fs.readFileSync(`/proc/${e}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1])); } catch { /* gone */ }
    }
    const out = [root];
    for (let grew = true; grew;) { grew = false; for (const [p, pp] of parent) if (out.includes(pp) && !out.includes(p)) { out.push(p); grew = true; } }
    return out;
  };
  let finished = false;
  done.then(() => { finished = true; });
  while (!finished) {
    for (const p of descendants(pid)) {
      const s = read(p);
      const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(s)?.[1] ?? 0) * 1024;
      const args = (() => { try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'); } catch { return []; } })();
      const role = p === pid ? 'box import' : args.includes('__untar') ? '__untar' : `pid ${p} ${args[0] ?? ''}`;
      if (hwm) peak.set(role, Math.max(peak.get(role) ?? 0, hwm));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return peak;
}

const free = (() => { try { const s = fs.statfsSync(STATE); return s.bavail * s.bsize; } catch { return 0; } })();
// the tarball, its unpacked layer and the container's view: 3 GiB each at most, plus room for the rest
const big = needs(test, free >= 10 * 1024 ** 3, `needs 10 GiB free where the test store is (${STATE}: ${(free / 1024 ** 3).toFixed(1)} GiB free)`);

big('box import of a 3 GiB rootfs tarball streams: peak RSS of box and of its __untar helper < 150 MB each; the container sees the whole file', async () => {
  const file = path.join(tmp, 'big.tar');
  const fd = fs.openSync(file, 'w');
  const zeros = Buffer.alloc(MB);
  try {
    fs.writeSync(fd, busyboxBody);
    fs.writeSync(fd, header('big', BIG));
    for (let n = 0; n < BIG; n += MB) fs.writeSync(fd, zeros, 0, Math.min(MB, BIG - n));
    fs.writeSync(fd, Buffer.alloc(1024)); // BIG is a multiple of 512: no padding, then the end blocks
  } finally {
    fs.closeSync(fd);
  }
  const t0 = Date.now();
  const p = boxAsync(['import', file, 'stream/big']);
  let out = '', err = '';
  p.stdout!.on('data', (d) => { out += d; });
  p.stderr!.on('data', (d) => { err += d; });
  const exited = exitOf(p);
  const peak = await peaks(p.pid!, exited);
  const { code } = await exited;
  const secs = (Date.now() - t0) / 1000;
  console.log(`  import of a ${(fs.statSync(file).size / 1024 ** 3).toFixed(2)} GiB tarball: ${secs.toFixed(1)} s; peak RSS ${[...peak].map(([k, v]) => `${k} ${(v / MB).toFixed(0)} MB`).join(', ')}`);
  fs.rmSync(file);
  assert.is(code, 0, err);
  assert.match(out, /^sha256:[0-9a-f]{64}\n$/);
  assert.ok(peak.has('box import') && peak.has('__untar'), `both processes were seen: ${[...peak.keys()]}`);
  for (const [role, bytes] of peak) assert.ok(bytes < 150 * MB, `${role}: peak RSS ${(bytes / MB).toFixed(0)} MB`);
  const seen = box(['run', '--rm', 'stream/big', 'stat', '-c', '%s', '/big']);
  assert.is(seen.stdout, `${BIG}\n`, seen.stderr);
  assert.is(box(['rmi', 'stream/big']).status, 0);
});

const exists = (p: string) => fs.existsSync(p);
const made: string[] = []; // untagged images this test made: removed by id if it fails half-way
const old = (p: string) => { const t = new Date(Date.now() - 3600_000); fs.utimesSync(p, t, t); return p; };
const layersOf = (ref: string) => (JSON.parse(box(['image', 'inspect', ref]).stdout)[0]?.RootFS.Layers ?? []).map((l: string) => path.join(IMAGES, 'layers', l.slice(7)));

test('image prune and system prune: unreferenced blobs, layers, temp dirs and cached tarballs go; what a running container uses stays', () => {
  const file = (name: string, data: Buffer) => { const p = path.join(tmp, name); fs.writeFileSync(p, data); return p; };
  // A runs in a container, then loses its tag to B: dangling but in use
  assert.is(box(['import', file('a.tar', rootfsWith({ marker: 'A' })), 'prune/x']).status, 0);
  const aLayers = layersOf('prune/x');
  const aId = JSON.parse(box(['image', 'inspect', 'prune/x']).stdout)[0].Id;
  made.push(aId);
  assert.is(box(['run', '-d', '--name', 'prune-user', 'prune/x', 'sleep', '600']).status, 0);
  assert.is(box(['import', file('b.tar', rootfsWith({ marker: 'B' })), 'prune/x']).status, 0);
  // C: imported with no tag, used by nothing
  const c = box(['import', file('c.tar', rootfsWith({ marker: 'C' }))]);
  assert.is(c.status, 0, c.stderr);
  const cId = c.stdout.trim();
  made.push(cId);
  const cLayers = layersOf(cId);
  // a rootfs tarball run by path: its cache entry is in the running container's lowerdirs
  const tgz = file('d.tar.gz', zlib.gzipSync(rootfsWith({ marker: 'D' })));
  const cached = () => fs.readdirSync(IMAGES).filter((n) => n.startsWith('tar-'));
  const before = cached(); // other suites' entries may be there too
  assert.is(box(['run', '-d', '--name', 'prune-tar', tgz, 'sleep', '600']).status, 0);
  const tarCache = cached().filter((n) => !before.includes(n)).map((n) => old(path.join(IMAGES, n)));
  assert.is(tarCache.length, 1);
  // what crashed imports and pulls leave, and orphans
  const hex = 'f'.repeat(63);
  const planted = {
    blob: path.join(IMAGES, 'blobs', 'sha256', `${hex}1`),
    layer: path.join(IMAGES, 'layers', `${hex}2`),
    staleLayerTmp: path.join(IMAGES, 'layers', '.tmp-stale'),
    staleBlobTmp: path.join(IMAGES, 'blobs', 'sha256', '.tmp-stale'),
    staleCache: path.join(IMAGES, 'tar-0123456789abcdef'),
  };
  fs.writeFileSync(planted.blob, 'orphan'); old(planted.blob);
  fs.mkdirSync(path.join(planted.layer, 'rootfs'), { recursive: true }); fs.writeFileSync(path.join(planted.layer, 'rootfs', 'f'), 'x'.repeat(4096)); old(planted.layer);
  fs.mkdirSync(planted.staleLayerTmp); old(planted.staleLayerTmp);
  fs.writeFileSync(planted.staleBlobTmp, 'partial'); old(planted.staleBlobTmp);
  fs.mkdirSync(path.join(planted.staleCache, 'rootfs'), { recursive: true }); old(planted.staleCache);
  const freshTmp = path.join(IMAGES, 'layers', '.tmp-fresh'); // an import in progress, as far as anyone can tell
  fs.mkdirSync(freshTmp);

  // asked first: anything but y keeps everything
  const no = box(['image', 'prune'], { input: 'n\n' });
  assert.match(no.stdout, /^WARNING! This will remove all dangling images\.\nAre you sure you want to continue\? \[y\/N\] $/);
  assert.ok(exists(planted.blob) && exists(cLayers[0]));

  const r = box(['image', 'prune', '-f']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Deleted Images:\\n(?:.*\\n)*Deleted: ${cId}\\n`));
  assert.match(r.stdout, /\nTotal reclaimed space: \d+(\.\d+)?[kMG]?B\n$/);
  assert.not.match(r.stdout, new RegExp(aId), 'the dangling image a container uses is kept');
  for (const [what, p] of Object.entries(planted)) assert.not.ok(exists(p), `${what} ${p} removed`);
  assert.not.ok(exists(cLayers[0]), 'the pruned image\'s layer');
  assert.ok(exists(freshTmp), 'a fresh temp dir (an import in progress) is kept');
  for (const l of aLayers) assert.ok(exists(l), `layer ${l} of the running container`);
  assert.ok(exists(tarCache[0]), 'the cached tarball a running container uses');
  assert.is(box(['exec', 'prune-user', 'cat', '/marker']).stdout, 'A');
  assert.is(box(['exec', 'prune-tar', 'cat', '/marker']).stdout, 'D');
  assert.ok(exists(path.join(IMAGES, 'records', `${aId.slice(7)}.json`)));

  // stopped, the containers go with system prune, and then so does A (dangling, unused) and the cache entry
  assert.is(box(['stop', '-t', '0', 'prune-user', 'prune-tar']).status, 0);
  const stopped = box(['system', 'prune'], { input: '\n' });
  assert.match(stopped.stdout, /^WARNING! This will remove:\n {2}- all stopped containers\n/);
  assert.ok(exists(aLayers[0]));
  old(tarCache[0]); // used a minute ago or more: nobody is creating a container from it
  const s = box(['system', 'prune', '-f']);
  assert.is(s.status, 0, s.stderr);
  assert.match(s.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n[0-9a-f]{64}\n\nDeleted Images:\n/);
  assert.match(s.stdout, new RegExp(`Deleted: ${aId}\\n`));
  assert.match(s.stdout, /\nTotal reclaimed space: \d+(\.\d+)?[kMG]?B\n$/);
  for (const l of aLayers) assert.not.ok(exists(l), `layer ${l} of the pruned image`);
  assert.not.ok(exists(tarCache[0]), 'the tarball cache entry no container uses');
  assert.not.match(box(['ps', '-a']).stdout, /prune-(user|tar)/);

  // -a: B is tagged but unused
  const bLayers = layersOf('prune/x');
  const all = box(['image', 'prune', '-a', '-f']);
  assert.is(all.status, 0, all.stderr);
  assert.match(all.stdout, /Untagged: prune\/x:latest\nDeleted: sha256:/);
  for (const l of bLayers) assert.not.ok(exists(l));
  fs.rmSync(freshTmp, { recursive: true });
});

test.after(() => {
  box(['rm', '-f', 'prune-user', 'prune-tar']);
  box(['rmi', 'stream/big', 'prune/x', ...made]);
  fs.rmSync(tmp, { recursive: true, force: true });
});
test.run();
