// Images: a real registry (Debian's docker-registry) on 127.0.0.1, images pushed with
// skopeo, then box pull / import / run / images / rmi; and the failures a registry can
// hand out — unknown tag, nobody listening, a corrupted blob, a hostile layer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as http from 'node:http';
import { spawnSync } from 'node:child_process';
import { box, boxLater, needs, TOP, STATE, exitOf } from '../helpers/box';
import { tarball } from '../helpers/tar';
import { ociLayout, ociIndexLayout, startRegistry, push, skopeo, freePort, TestRegistry } from '../helpers/oci';
import { runInPty } from '../helpers/pty';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const ok = has('docker-registry') && has('skopeo');
const t = needs(test, ok, 'needs Debian\'s docker-registry and skopeo (.ci/run installs them)');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-img-'));
let reg: TestRegistry;
const busyboxTar = zlib.gunzipSync(fs.readFileSync(path.join(TOP, 'images/busybox.tar.gz')));

// three layers: busybox; /opt/old + /srv/keep; then a hard link, a whiteout and an opaque dir
const layers = [
  busyboxTar,
  tarball([{ name: 'opt/', type: 'dir' }, { name: 'opt/old', data: 'old' }, { name: 'srv/', type: 'dir' }, { name: 'srv/keep', data: 'keep' }]),
  tarball([
    { name: 'data/', type: 'dir' }, { name: 'data/a', data: 'A' }, { name: 'data/b', type: 'link', link: 'data/a' },
    { name: 'etc/.wh.os-release' }, { name: 'opt/', type: 'dir' }, { name: 'opt/.wh..wh..opq' }, { name: 'opt/new', data: 'new' },
    { name: 'srv/run.sh', data: 'echo from-entrypoint; pwd; id -u; echo $FOO\n', mode: 0o755 },
    { name: 'srv/owned', data: 'o', uid: 1234, gid: 4321, mode: 0o640, mtime: 1000000000 },
  ]),
];
const config = { Entrypoint: ['/bin/sh', '/srv/run.sh'], Cmd: null, Env: ['PATH=/usr/bin:/bin', 'FOO=bar'], WorkingDir: '/srv', User: '1000' };
// a whiteout of a file box does not bind over (it binds its own /etc/hosts, hostname, resolv.conf, as Docker)
const CHECK = 'cat /data/a; [ "$(stat -c %i /data/a)" = "$(stat -c %i /data/b)" ] && echo hardlinked; ls /etc/os-release 2>&1 | grep -c "No such"; ls /opt; cat /srv/keep; echo; stat -c "%u %g %a %Y" /srv/owned';

t('setup: a registry on 127.0.0.1 with a three-layer image pushed by skopeo', async () => {
  reg = await startRegistry(path.join(tmp, 'registry'));
  ociLayout(path.join(tmp, 'multi'), 'v1', layers, config);
  push(path.join(tmp, 'multi'), 'v1', `${reg.addr}/test/multi:v1`);
});

t('box pull: layers verified and stacked; whiteouts, opaque dirs, hard links; the image config applies', () => {
  const r = box(['pull', `${reg.addr}/test/multi:v1`]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /Pull complete/);
  assert.match(r.stdout, /Digest: sha256:[0-9a-f]{64}/);
  const run = box(['run', '--rm', `${reg.addr}/test/multi:v1`]);
  assert.is(run.stdout, 'from-entrypoint\n/srv\n1000\nbar\n', run.stderr);
  const inside = box(['run', '--rm', '-u', '0', '--entrypoint', '/bin/sh', `${reg.addr}/test/multi:v1`, '-c', CHECK]);
  assert.is(inside.stdout, 'Ahardlinked\n1\nnew\nkeep\n1234 4321 640 1000000000\n', inside.stderr);
  // the same again without overlayfs: the plain copy applies the whiteouts itself
  const copy = box(['run', '--rm', '-u', '0', '--entrypoint', '/bin/sh', `${reg.addr}/test/multi:v1`, '-c', CHECK], { env: { BOX_NO_OVERLAY: '1' } });
  assert.is(copy.stdout, 'Ahardlinked\n1\nnew\nkeep\n1234 4321 640 1000000000\n', copy.stderr);
  // one unpacked copy of each layer, shared
  assert.is(fs.readdirSync(path.join(STATE, 'images', 'layers')).filter((d) => !d.startsWith('.')).length, 3);
  assert.match(box(['images']).stdout, new RegExp(`${reg.addr.replace(/\./g, '\\.')}/test/multi\\s+v1\\s+[0-9a-f]{12}`));
  const inspect = JSON.parse(box(['image', 'inspect', `${reg.addr}/test/multi:v1`]).stdout)[0];
  assert.equal(inspect.Config.Entrypoint, config.Entrypoint);
  assert.is(inspect.RootFS.Layers.length, 3);
});

t('a multi-platform image: pull picks this host\'s platform; on a terminal, one progress line per layer', async () => {
  const here = { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64'];
  const other = here === 'amd64' ? 'arm64' : 'amd64';
  ociIndexLayout(path.join(tmp, 'multiarch'), 'v1', [
    { arch: other, layers: [tarball([{ name: 'which', data: other }])], config: {} },
    { arch: here, layers: [busyboxTar, tarball([{ name: 'which', data: here }])], config: { Cmd: ['cat', '/which'] } },
  ]);
  push(path.join(tmp, 'multiarch'), 'v1', `${reg.addr}/test/multiarch:v1`, true);
  const term = runInPty(['pull', `${reg.addr}/test/multiarch:v1`], 24, 100);
  assert.is((await exitOf(term.proc)).code, 0, term.output());
  await new Promise((r) => setTimeout(r, 100));
  const shown = term.output();
  term.close();
  assert.match(shown, /\x1b\[\d+A/, 'lines redrawn in place');
  assert.is((shown.match(/[0-9a-f]{12}: Pull complete/g) || []).length >= 2, true, shown);
  assert.is(box(['run', '--rm', `${reg.addr}/test/multiarch:v1`]).stdout, here);
  assert.is(box(['rmi', `${reg.addr}/test/multiarch:v1`]).status, 0);
});

t('the Bearer token flow (Docker Hub\'s): a 401 challenge, a token from the realm, then the pull', async () => {
  // An auth front for the real registry, as Docker Hub's is: /v2/ answers 401 with a
  // WWW-Authenticate challenge until the client brings the token the realm hands out.
  let port = 0;
  const seen: string[] = [];
  const server = http.createServer(async (req, res) => {
    if (req.url!.startsWith('/token')) {
      seen.push(req.url!);
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ token: 'box-test-token' }));
    }
    if (req.headers.authorization !== 'Bearer box-test-token') {
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer realm="http://127.0.0.1:${port}/token",service="box-test",scope="repository:test/multi:pull"`);
      return res.end();
    }
    const upstream = await fetch(`http://${reg.addr}${req.url}`, { headers: { accept: String(req.headers.accept ?? '') } });
    res.statusCode = upstream.status;
    for (const h of ['content-type', 'docker-content-digest', 'content-length']) if (upstream.headers.get(h)) res.setHeader(h, upstream.headers.get(h)!);
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  // port 0: the kernel's free port, bound at once (no window for another suite to take it)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as import('node:net').AddressInfo).port;
  try {
    const r = await boxLater(['pull', `127.0.0.1:${port}/test/multi:v1`]); // spawnSync would block this server
    assert.is(r.status, 0, r.stderr);
    assert.ok(seen.length >= 1, 'the token endpoint was asked');
    assert.match(seen[0], /service=box-test/);
    assert.match(seen[0], /scope=repository%3Atest%2Fmulti%3Apull/);
    assert.is(box(['rmi', `127.0.0.1:${port}/test/multi:v1`]).status, 0);
  } finally {
    server.close();
  }
});

t('pull errors: unknown tag, nobody listening, a corrupted blob, a hostile layer — a clear error, a consistent store', async () => {
  const unknown = box(['pull', `${reg.addr}/test/multi:nope`]);
  assert.is(unknown.status, 1); // docker pull's status when a pull fails
  assert.match(unknown.stderr, /test\/multi:nope: not found/);
  const port = await freePort();
  const down = box(['pull', `127.0.0.1:${port}/test/multi:v1`]);
  assert.is(down.status, 1); // docker pull's status when a pull fails
  assert.match(down.stderr, /cannot reach registry 127\.0\.0\.1:\d+: ECONNREFUSED/);

  // corrupt a layer blob inside the registry's storage (same size, other bytes)
  const small = ociLayout(path.join(tmp, 'small'), 'v1', [tarball([{ name: 'bin/', type: 'dir' }, { name: 'hello', data: 'hello world' }])], { Cmd: ['/hello'] });
  push(path.join(tmp, 'small'), 'v1', `${reg.addr}/test/small:v1`);
  const hex = small.layers[0].slice(7);
  const data = path.join(reg.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  const bytes = fs.readFileSync(data);
  bytes[bytes.length - 5] ^= 0xff;
  fs.writeFileSync(data, bytes);
  const bad = box(['pull', `${reg.addr}/test/small:v1`]);
  assert.is(bad.status, 1); // docker pull's status when a pull fails
  assert.match(bad.stderr, new RegExp(`blob sha256:${hex}: digest mismatch`));
  assert.not.ok(fs.existsSync(path.join(STATE, 'images', 'blobs', 'sha256', hex)));

  // a layer that tries to write outside itself is refused whole
  ociLayout(path.join(tmp, 'evil'), 'v1', [tarball([{ name: 'ok', data: 'x' }, { name: '../../../escaped', data: 'x' }])], {});
  push(path.join(tmp, 'evil'), 'v1', `${reg.addr}/test/evil:v1`);
  const evil = box(['pull', `${reg.addr}/test/evil:v1`]);
  assert.is(evil.status, 1); // docker pull's status when a pull fails
  assert.match(evil.stderr, /invalid archive: path "..\/..\/..\/escaped" leaves the layer/);
  const store = path.join(STATE, 'images');
  assert.equal(fs.readdirSync(path.join(store, 'layers')).filter((d) => d.startsWith('.')), [], 'no half-unpacked layer');
  assert.not.match(box(['images']).stdout, /test\/(small|evil)/);
});

t('import: a docker save archive and an OCI layout made by skopeo; rmi refuses an image in use', () => {
  const archive = path.join(tmp, 'saved.tar');
  skopeo(['copy', '--quiet', `oci:${path.join(tmp, 'multi')}:v1`, `docker-archive:${archive}:test/saved:v2`]);
  const imp = box(['import', archive]);
  assert.is(imp.status, 0, imp.stderr);
  assert.is(box(['run', '--rm', '--entrypoint', '', 'test/saved:v2', 'cat', '/opt/new']).stdout, 'new');
  const layout = path.join(tmp, 'skopeo-layout');
  skopeo(['copy', '--quiet', `oci:${path.join(tmp, 'multi')}:v1`, `oci:${layout}:v3`]);
  assert.is(box(['import', layout, 'test/layout:v3']).status, 0);
  // the same layout as a tar
  const layoutTar = path.join(tmp, 'layout.tar');
  spawnSync('tar', ['-cf', layoutTar, '-C', layout, '.']);
  assert.is(box(['import', layoutTar, 'test/layouttar:v4']).status, 0);
  assert.is(box(['run', '--rm', 'test/layouttar:v4']).stdout, 'from-entrypoint\n/srv\n1000\nbar\n');
  assert.is(box(['rmi', 'test/layouttar:v4']).status, 0);
  assert.is(box(['run', '--rm', 'test/layout:v3']).stdout, 'from-entrypoint\n/srv\n1000\nbar\n');
  // a rootfs tarball becomes a one-layer image
  assert.is(box(['import', path.join(TOP, 'images/busybox.tar.gz'), 'plain/rootfs']).status, 0);
  assert.is(box(['run', '--rm', 'plain/rootfs', 'echo', 'plain']).stdout, 'plain\n');
  // in use
  assert.is(box(['run', '--name', 'img-user', 'test/layout:v3']).status, 0);
  const refused = box(['rmi', 'test/layout:v3']);
  assert.is(refused.status, 1);
  assert.match(refused.stderr, /unable to remove image test\/layout:v3: it is used by container/);
  assert.is(box(['rm', 'img-user']).status, 0);
  for (const img of ['test/layout:v3', 'test/saved:v2', 'plain/rootfs', `${reg.addr}/test/multi:v1`]) assert.is(box(['rmi', img]).status, 0, img);
  assert.is(box(['images', '-q']).stdout, '', box(['images']).stdout);
  assert.equal(fs.readdirSync(path.join(STATE, 'images', 'layers')), [], 'layers go with the last image');
  // the builtin busybox still needs nothing
  assert.is(box(['run', '--rm', 'busybox', 'echo', 'builtin']).stdout, 'builtin\n');
});

test.after(() => {
  box(['rm', '-f', 'img-user']); // left by a failed assertion in the import test
  reg?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});
test.run();
