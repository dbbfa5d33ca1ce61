// Escapes through paths and mounts, attacked from inside a container or with a hostile image
// or archive, checked on the host afterwards. Each test has a control that shows its probe
// does reach the host when nothing stops it, so a pass is not a probe that never worked.
// BOX_OLD_KERNEL=1 runs box as on a kernel without openat2/mount_setattr (the fallbacks).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { box, boxAsync, stop, until, needs, TOP, CC } from '../helpers/box';
import { tarball } from '../helpers/tar';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-esc-'));
const KERNELS = [['new kernel', {}], ['old kernel (fallbacks)', { BOX_OLD_KERNEL: '1' }]] as const;

function rootfsCopy(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  spawnSync('tar', ['-xzf', path.join(TOP, 'images/busybox.tar.gz'), '-C', dir]);
  return dir;
}

fs.mkdirSync(path.join(tmp, 'probe'));
const cc = spawnSync(CC, ['-static', '-O', '-o', path.join(tmp, 'probe/swap'), path.join(TOP, 'test/fixtures/swap.c')], { encoding: 'utf8' });

needs(test, cc.status === 0, `cannot build the static swap probe: ${cc.stderr || cc.error}`)('CVE-2021-30465: a container swapping a shared-volume dir for a symlink cannot make box mkdir or mount on the host', async () => {
  const shared = path.join(tmp, 'shared'), other = path.join(tmp, 'other'), target = path.join(tmp, 'host-target');
  for (const d of [shared, other, target]) fs.mkdirSync(d);
  // Control: the symlink the container writes, followed by a plain host-side mkdir -p, lands in the host target.
  fs.symlinkSync(target, path.join(shared, 'd'));
  fs.mkdirSync(path.join(shared, 'd', 'x'), { recursive: true });
  assert.ok(fs.existsSync(path.join(target, 'x')), 'control: the probe path reaches the host target');
  fs.rmdirSync(path.join(target, 'x'));
  const args = ['run', '--rm', '-v', `${shared}:/a`, '-v', `${other}:/a/d/x`, 'busybox', 'true'];
  // The symlink standing still: resolved inside the container's root.
  for (const [label, env] of KERNELS) {
    const r = box(args, { env });
    assert.is(r.status, 0, `${label}: ${r.stderr}`);
    assert.equal(fs.readdirSync(target), [], `${label}: box created something on the host`);
  }
  fs.unlinkSync(path.join(shared, 'd'));

  // The race: a container exchanges /a/d (a directory) and /a/s (that symlink) atomically, in a tight
  // loop (half a CPU, so the runs under test are not starved).
  const swapper = boxAsync(['run', '--rm', '--cpus', '0.5', '-v', `${shared}:/a`, '-v', `${tmp}/probe:/probe:ro`, 'busybox', 'sh', '-c',
    `mkdir /a/d && ln -s ${target} /a/s && exec /probe/swap /a/d /a/s /a/count`]);
  try {
    const swaps = () => Number(fs.readFileSync(path.join(shared, 'count'), 'utf8') || 0);
    await until(() => { try { return swaps() > 0; } catch { return false; } }, 15000, 'the swapper to start');
    const before = swaps();
    // at least 6 runs however slow the host (two suites at once make each run take seconds), up to 16 in 10 s
    const end = Date.now() + 10000;
    const statuses: number[] = [];
    for (let i = 0; i < 16 && (i < 6 || Date.now() < end); i++) {
      const r = box(args, { env: KERNELS[i % 2][1] });
      statuses.push(r.status);
      // losing the race may fail the run (the path vanished under box): that is fine, escaping is not
      if (r.status !== 0) assert.is(r.status, 125, r.stderr);
    }
    const after = swaps();
    assert.equal(fs.readdirSync(target), [], `box created something on the host through the swapped symlink (runs: ${statuses})`);
    assert.ok(after - before >= 1 << 16, `the swapper must be swapping during the runs (${before} → ${after})`);
    assert.ok(statuses.some((s) => s === 0), `some runs succeed (${statuses})`);
  } finally {
    await stop(swapper);
  }
  assert.equal(fs.readdirSync(target), [], 'box created something on the host through the swapped symlink');
});

test('a single-file volume gets a file mount target (-v FILE:/etc/hostname:ro)', () => {
  const file = path.join(tmp, 'hostname-file');
  fs.writeFileSync(file, 'from-the-host\n');
  for (const [label, env] of KERNELS) {
    const r = box(['run', '--rm', '-v', `${file}:/etc/hostname:ro`, 'busybox', 'sh', '-c', 'cat /etc/hostname; echo x > /etc/hostname'], { env });
    assert.is(r.stdout, 'from-the-host\n', `${label}: ${r.stderr}`);
    assert.match(r.stderr, /Read-only file system/, label);
  }
  assert.is(fs.readFileSync(file, 'utf8'), 'from-the-host\n');
});

test(':ro volumes are read-only down to every submount (a host mount under the source stays writable otherwise)', () => {
  const src = path.join(tmp, 'rosrc'), sub = path.join(src, 'sub');
  fs.mkdirSync(sub, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,nosuid,nodev', 'box-esc-sub', sub], { encoding: 'utf8' });
  assert.is(m.status, 0, m.stderr);
  try {
    // Control: without :ro the submount is there and writable from inside.
    const rw = box(['run', '--rm', '-v', `${src}:/data`, 'busybox', 'sh', '-c', 'touch /data/sub/w && echo written']);
    assert.is(rw.stdout.trim(), 'written', rw.stderr);
    assert.ok(fs.existsSync(path.join(sub, 'w')), 'control: the write reached the host submount');
    fs.unlinkSync(path.join(sub, 'w'));
    for (const [label, env] of KERNELS) {
      const r = box(['run', '--rm', '-v', `${src}:/data:ro`, 'busybox', 'sh', '-c',
        'touch /data/top 2>&1; touch /data/sub/w 2>&1; grep " /data/sub " /proc/self/mountinfo'], { env });
      assert.match(r.stdout, /touch: \/data\/top: Read-only file system/, `${label}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /touch: \/data\/sub\/w: Read-only file system/, `${label}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, / \/data\/sub ro,nosuid,nodev[, ]/, `${label}: the submount keeps its own flags`);
      assert.equal(fs.readdirSync(sub), [], label);
    }
  } finally {
    spawnSync('umount', ['-l', sub]);
  }
});

test('--no-pivot: a user namespace inside cannot mount proc or sysfs through the host\'s hidden /proc and /sys', () => {
  const probe = 'unshare -U -r -m -p -f sh -c "mount -t proc none /mnt && echo PROC-MOUNTED"; unshare -U -r -m -n sh -c "mount -t sysfs none /mnt && echo SYSFS-MOUNTED"; true';
  // Control: under --privileged the container's own /proc has no masked paths, so the probe mounts one.
  const control = box(['run', '--rm', '--privileged', 'busybox', 'sh', '-c', probe]);
  assert.match(control.stdout, /PROC-MOUNTED/, `control: ${control.stdout}${control.stderr}`);
  // Unconfined: the default seccomp filter refuses `unshare -U` before the mount defence is
  // reached; this test is about the mounts, which must hold where user namespaces are allowed.
  for (const flags of [[], ['--no-pivot']]) {
    for (const [label, env] of KERNELS) {
      const r = box(['run', '--rm', '--security-opt', 'seccomp=unconfined', ...flags, 'busybox', 'sh', '-c', probe], { env });
      assert.is(r.status, 0, r.stderr);
      assert.not.match(r.stdout, /MOUNTED/, `${flags} ${label}: ${r.stdout}`);
    }
  }
});

test('user lookup reads the image\'s /etc/passwd inside it: an absolute symlink out, and a FIFO, reach nothing on the host', () => {
  const hostPasswd = path.join(tmp, 'host-passwd');
  fs.writeFileSync(hostPasswd, 'hostonly:x:4242:4242::/h:/bin/sh\n');
  const rootfs = rootfsCopy('user-rootfs');
  fs.rmSync(path.join(rootfs, 'etc/passwd'));
  fs.symlinkSync(hostPasswd, path.join(rootfs, 'etc/passwd'));
  // Control: a host-side path.join follows the image's symlink to the host file.
  assert.match(fs.readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8'), /hostonly/);
  const r = box(['run', '--rm', '-u', 'hostonly', rootfs, 'id', '-u']);
  assert.is(r.status, 125, r.stdout);
  assert.match(r.stderr, /unable to find user hostonly/);
  // A FIFO as /etc/group: refused at once, not waited on.
  const fifo = rootfsCopy('fifo-rootfs');
  fs.rmSync(path.join(fifo, 'etc/group'), { force: true });
  spawnSync('mkfifo', [path.join(fifo, 'etc/group')]);
  const t0 = Date.now();
  const f = box(['run', '--rm', '-u', '0:wheel', fifo, 'true'], { timeout: 20000 });
  assert.is(f.signal, null, 'box hung on the FIFO');
  assert.is(f.status, 125);
  assert.match(f.stderr, /\/etc\/group of the image: .*not a regular file/);
  assert.ok(Date.now() - t0 < 15000);
});

test('box import: archive-internal paths (manifest.json Config/Layers, OCI digests, symlinks) cannot name host files', () => {
  const config = path.join(tmp, 'host-config.json');
  fs.writeFileSync(config, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const up = '../'.repeat(12) + config.slice(1);
  // Control: the way the archive is unpacked (a temp dir), a plain path.join of that Config is the host file.
  assert.is(path.join(os.tmpdir(), 'box-import-XXXX', up), config);
  const cases: [string, any[], RegExp][] = [
    ['Config with ..', [{ name: 'manifest.json', data: JSON.stringify([{ Config: up, Layers: [] }]) }], /^box import: manifest.json: Config path ".*\.\.\/.*host-config.json" leaves the archive\n$/],
    ['absolute Layer', [{ name: 'c.json', data: '{"rootfs":{"diff_ids":["x"]}}' }, { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', Layers: ['/etc/hostname'] }]) }], /^box import: manifest.json: layer path "\/etc\/hostname" leaves the archive\n$/],
    ['Config a symlink to the host', [{ name: 'c.json', type: 'symlink', link: config }, { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', Layers: [] }]) }], /^box import: manifest.json: Config c.json is missing from the archive\n$/],
    ['OCI digest with ..', [{ name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' }, { name: 'index.json', data: JSON.stringify({ manifests: [{ digest: `sha256:${up}` }] }) }], /^box import: invalid digest "sha256:.*host-config.json" in the layout\n$/],
  ];
  for (const [label, entries, want] of cases) {
    const file = path.join(tmp, 'evil-archive.tar');
    fs.writeFileSync(file, tarball(entries));
    const r = box(['import', file, 'evil/archive:x']);
    assert.is(r.status, 1, `${label}: ${r.stderr}`); // docker import's status when it fails
    assert.match(r.stderr, want, label);
  }
  assert.is(box(['images', '-q', 'evil/archive']).stdout.trim(), '');
});

test.after(() => { spawnSync('umount', ['-l', path.join(tmp, 'rosrc/sub')]); fs.rmSync(tmp, { recursive: true, force: true }); });
test.run();
