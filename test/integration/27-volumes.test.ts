// Named and anonymous volumes (lib/state/volumes.ts, lib/container/volumes.ts, box volume):
// -v NAME:/path and --mount type=volume make the volume on first use and copy the image's
// files there (Docker's copy into a new, empty volume) without following the image's
// symlinks; data outlives containers; rm refuses a volume in use with Docker's message;
// anonymous volumes (-v /path) go with --rm and rm -v; names that are not Docker's are
// refused and never make a path outside the volumes directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { box, removeAll, STATE, TOP, until } from '../helpers/box';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-volumes-'));
const VOLUMES = path.join(STATE, 'volumes');
const names = () => box(['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean);
const socket = path.join(STATE, 'run', 'supervisor.sock');

test('a named volume: made on first use with the image\'s files, kept across containers, in inspect and ls', () => {
  try {
    const r = box(['run', '--rm', '-v', 'vol-etc:/etc', 'busybox', 'sh', '-c', 'cat /etc/group | head -1; echo mine > /etc/added']);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /^root:/, 'the image\'s /etc copied into the new volume');
    const again = box(['run', '--rm', '--mount', 'type=volume,source=vol-etc,target=/data,readonly', 'busybox', 'sh', '-c', 'cat /data/added; touch /data/x 2>/dev/null || echo ro']);
    assert.is(again.stdout, 'mine\nro\n', again.stderr);
    // an existing, non-empty volume is not filled again at another path
    const other = box(['run', '--rm', '-v', 'vol-etc:/bin', 'busybox', '/bin/cat', '/bin/added']);
    assert.is(other.status, 127, 'the volume (not the image\'s /bin) at /bin: no cat there');
    assert.ok(names().includes('vol-etc'));
    assert.match(box(['volume', 'ls']).stdout, /^DRIVER {4}VOLUME NAME\nlocal {5}/);
    const [info] = JSON.parse(box(['volume', 'inspect', 'vol-etc']).stdout);
    assert.equal({ ...info, CreatedAt: 'x' }, { CreatedAt: 'x', Driver: 'local', Labels: null, Mountpoint: path.join(VOLUMES, 'vol-etc', '_data'), Name: 'vol-etc', Options: null, Scope: 'local' });
    assert.ok(fs.existsSync(path.join(info.Mountpoint, 'added')));
    const missing = box(['volume', 'inspect', 'no-such-vol']);
    assert.is(missing.status, 1);
    assert.match(missing.stderr, /no such volume/);
  } finally {
    box(['volume', 'rm', '-f', 'vol-etc']);
  }
});

test('volume create / rm: in use refused with Docker\'s message, removed once unused; -f ignores a missing one', () => {
  try {
    assert.is(box(['volume', 'create', 'vol-a']).stdout, 'vol-a\n');
    assert.is(box(['volume', 'create', 'vol-a']).status, 0, 'creating an existing volume is fine (Docker)');
    const c = box(['create', '--name', 'vol-user', '-v', 'vol-a:/a', 'busybox', 'true']);
    assert.is(c.status, 0, c.stderr);
    const id = c.stdout.trim();
    const busy = box(['volume', 'rm', 'vol-a']);
    assert.is(busy.status, 1);
    assert.match(busy.stderr, new RegExp(`remove vol-a: volume is in use - \\[${id}\\]`));
    assert.ok(names().includes('vol-a'));
    box(['rm', 'vol-user']);
    assert.is(box(['volume', 'rm', 'vol-a']).stdout, 'vol-a\n');
    assert.not.ok(fs.existsSync(path.join(VOLUMES, 'vol-a')));
    assert.is(box(['volume', 'rm', 'vol-a']).status, 1);
    assert.is(box(['volume', 'rm', '-f', 'vol-a']).status, 0);
  } finally {
    removeAll('vol-user');
    box(['volume', 'rm', '-f', 'vol-a']);
  }
});

test('anonymous volumes: -v /path makes one, --rm and rm -v remove it, rm alone keeps it; prune takes unused anonymous ones', async () => {
  const before = names();
  const r = box(['run', '--rm', '-v', '/anon', 'busybox', 'sh', '-c', 'echo x > /anon/f']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(names(), before, '--rm removed the anonymous volume');
  const keep = box(['run', '--rm', '-d', '--name', 'vol-keep', 'busybox', 'sleep', '60']); // pooled runs from here on
  assert.is(keep.status, 0, keep.stderr);
  try {
    await until(() => fs.existsSync(socket), 10000, 'the supervisor');
    const c = box(['create', '-v', '/anon', 'busybox', 'true']).stdout.trim();
    const anon = names().filter((n) => !before.includes(n));
    assert.is(anon.length, 1);
    assert.match(anon[0], /^[0-9a-f]{64}$/, 'Docker\'s anonymous names');
    assert.equal(JSON.parse(box(['inspect', c]).stdout)[0].Mounts.map((m: any) => [m.Type, m.Name, m.Destination]), [['volume', anon[0], '/anon']]);
    assert.is(box(['rm', '-v', c]).status, 0);
    assert.equal(names(), before, 'rm -v removed it');
    const p = box(['run', '--rm', '-v', '/anon', 'busybox', 'sh', '-c', 'ls /anon | wc -l']);
    assert.is(p.stdout.trim(), '0', p.stderr);
    assert.equal(names(), before, 'a pooled --rm run removes it too');
    const d = box(['create', '-v', '/anon', 'busybox', 'true']).stdout.trim();
    box(['rm', d]);
    const left = names().filter((n) => !before.includes(n));
    assert.is(left.length, 1, 'rm without -v keeps it');
    box(['volume', 'create', 'vol-named']);
    const pr = box(['volume', 'prune', '-f']);
    assert.is(pr.stdout, `Deleted Volumes:\n${left[0]}\n\nTotal reclaimed space: 0B\n`);
    assert.ok(names().includes('vol-named'), 'prune without -a keeps named volumes');
    assert.match(box(['volume', 'prune', '-a', '-f']).stdout, /vol-named/);
  } finally {
    removeAll('vol-keep');
    box(['volume', 'rm', '-f', 'vol-named']);
  }
});

test('names: Docker\'s rule; nothing outside the volumes directory is made or bound', () => {
  for (const v of ['../escape:/x', 'a/b:/x', '.hidden:/x', '-x:/x']) {
    const r = box(['run', '--rm', '-v', v, 'busybox', 'true']);
    assert.is(r.status, 125, v);
    assert.match(r.stderr, /invalid characters for a local volume name|invalid volume/, v);
  }
  for (const m of ['type=volume,source=../escape,target=/x', 'type=volume,source=a/b,target=/x']) {
    const r = box(['run', '--rm', '--mount', m, 'busybox', 'true']);
    assert.is(r.status, 125, m);
    assert.match(r.stderr, /invalid characters for a local volume name/);
  }
  const c = box(['volume', 'create', '../up']);
  assert.is(c.status, 1);
  assert.match(c.stderr, /includes invalid characters for a local volume name/);
  assert.not.ok(fs.existsSync(path.join(STATE, 'escape')) || fs.existsSync(path.join(STATE, 'up')));
});

test('the copy into a new volume keeps the image\'s symlinks as symlinks: nothing of the host is read or written through them', () => {
  const root = path.join(tmp, 'rootfs');
  fs.mkdirSync(root);
  const hostFile = path.join(tmp, 'host-secret');
  fs.writeFileSync(hostFile, 'host only\n');
  const sh = spawnSync('sh', ['-ec', `tar -xzf ${TOP}/images/busybox.tar.gz -C ${root}
    mkdir -p ${root}/data/sub
    echo image > ${root}/data/sub/file
    ln -s / ${root}/data/root
    ln -s ${hostFile} ${root}/data/secret
    ln -s /etc ${root}/data/sub/etc
    mkdir -p ${root}/real; ln -s /real ${root}/linked
    tar -cf ${tmp}/hostile.tar -C ${root} .`], { encoding: 'utf8' });
  assert.is(sh.status, 0, sh.stderr);
  try {
    const r = box(['run', '--rm', '-v', 'vol-hostile:/data', '-v', 'vol-linked:/linked', path.join(tmp, 'hostile.tar'), 'true']);
    assert.is(r.status, 0, r.stderr);
    const data = path.join(VOLUMES, 'vol-hostile', '_data');
    assert.is(fs.readFileSync(path.join(data, 'sub', 'file'), 'utf8'), 'image\n');
    assert.is(fs.readlinkSync(path.join(data, 'root')), '/');
    assert.is(fs.readlinkSync(path.join(data, 'secret')), hostFile, 'copied as a link, not the host file\'s content');
    assert.is(fs.readlinkSync(path.join(data, 'sub', 'etc')), '/etc');
    assert.ok(fs.lstatSync(path.join(data, 'secret')).isSymbolicLink());
    assert.equal(fs.readdirSync(path.join(VOLUMES, 'vol-linked', '_data')), [], 'a mount path through a symlink is not copied on the host');
    assert.is(fs.readFileSync(hostFile, 'utf8'), 'host only\n');
  } finally {
    box(['volume', 'rm', '-f', 'vol-hostile', 'vol-linked']);
  }
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
