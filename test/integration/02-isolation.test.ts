// Mount isolation, masked and read-only paths, capabilities, breakouts, the image kept
// pristine under the copy-on-write layer, volumes and tmpfs.
import { test } from 'uvu';
import { VIEW_TARGETS } from '../../lib/procview/host';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { box, sh, STATE, needs, TOP, CC } from '../helpers/box';
import { tarball } from '../helpers/tar';
import { discover } from '../../lib/cgroup/discover';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-iso-'));
const DEFAULT_BND = '00000000a80425fb'; // Docker's 14 capabilities

function mountpoints(flags: string[] = []): string[] {
  return sh('cat /proc/self/mountinfo', flags).trim().split('\n').map((l) => l.split(' ')[4]);
}

test('mountinfo shows only the container\'s own mounts; the old root is gone', () => {
  const allowed = new Set(['/', '/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys',
    '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger', '/proc/asound', '/proc/acpi', '/proc/interrupts',
    '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug',
    '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf',
    // the container's own cgroups (test 39): v2's one mount, or v1's tmpfs and a mount per hierarchy
    '/sys/fs/cgroup', ...discover().v1.map((h) => `/sys/fs/cgroup/${path.basename(h.mountpoint)}`),
    // the /proc view's files (test 42), each a FUSE mount of its own
    ...Object.values(VIEW_TARGETS)]);
  const mps = mountpoints();
  for (const m of mps) assert.ok(allowed.has(m), `unexpected mount ${m}`);
  assert.is(mps[0], '/');
  const rootfs = fs.readdirSync(path.join(STATE, 'images')).find((d) => d.startsWith('busybox-'))!;
  const top = fs.readdirSync(path.join(STATE, 'images', rootfs, 'rootfs')).sort();
  assert.equal(sh('ls -a /').trim().split('\n').filter((n) => n !== '.' && n !== '..').sort(), top);
});

test('masked paths read empty; read-only paths refuse writes', () => {
  const out = sh(`for p in /proc/keys /proc/timer_list /proc/interrupts; do [ -e $p ] && echo "$p $(wc -c < $p)"; done
    for d in /proc/acpi /sys/firmware; do [ -d $d ] && echo "$d $(ls -A $d | wc -l)"; done; true`);
  const lines = out.trim().split('\n').filter(Boolean);
  assert.ok(lines.length >= 2, out);
  for (const l of lines) assert.match(l, / 0$/);
  const ro = sh('(echo x > /proc/sys/kernel/domainname) 2>&1 || true; grep -E " /proc/(sys|sysrq-trigger|irq|bus|fs) " /proc/self/mountinfo');
  assert.match(ro, /can't create \/proc\/sys\/kernel\/domainname: Read-only file system/);
  const roMounts = ro.trim().split('\n').slice(1);
  const present = ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus', '/proc/fs'].filter((p) => fs.existsSync(p));
  assert.is(roMounts.length, present.length, ro);
  for (const l of roMounts) assert.match(l.split(' ')[5], /^ro,/, l);
  // --privileged: no masks
  assert.ok(Number(sh('wc -c < /proc/interrupts', ['--privileged']).trim()) > 0);
});

test('capabilities: Docker\'s default set, --cap-add, --cap-drop, --privileged', () => {
  assert.match(sh('grep -E "Cap(Bnd|Eff|Prm)" /proc/self/status'), new RegExp(`CapPrm:\\t${DEFAULT_BND}\\nCapEff:\\t${DEFAULT_BND}\\nCapBnd:\\t${DEFAULT_BND}`));
  assert.match(sh('grep CapBnd /proc/self/status', ['--cap-drop', 'ALL']), /CapBnd:\t0000000000000000/);
  assert.match(sh('grep CapBnd /proc/self/status', ['--cap-drop', 'NET_RAW', '--cap-drop', 'chown']), /CapBnd:\t00000000a80405fa/);
  // --privileged: everything box itself holds (root on a host may lack some, e.g. CAP_SYS_RESOURCE)
  const hostBnd = fs.readFileSync('/proc/self/status', 'utf8').match(/CapBnd:\t(\w+)/)![1];
  assert.match(sh('grep CapBnd /proc/self/status', ['--privileged']), new RegExp(`CapBnd:\\t${hostBnd}`));
  assert.is(sh('mount -t tmpfs t /mnt && echo mounted', ['--cap-add', 'SYS_ADMIN']).trim(), 'mounted');
});

test('mount, umount of a masked path and sethostname are refused', () => {
  // refused for lack of CAP_SYS_ADMIN: unconfined, so that seccomp (which refuses them too) is not what is tested
  const out = sh('mount -t tmpfs t /mnt 2>&1; umount /proc/keys 2>&1; umount -l /proc/sys 2>&1; true', ['--security-opt', 'seccomp=unconfined']);
  assert.match(out, /mount: permission denied/);
  assert.is((out.match(/Operation not permitted|permission denied|Invalid argument/gi) || []).length, 3, out);
});

const cc = spawnSync(CC, ['-static', '-O', '-o', path.join(tmp, 'breakout'), path.join(TOP, 'test/fixtures/breakout.c')], { encoding: 'utf8' });
needs(test, cc.status === 0, `cannot build the static breakout probe: ${cc.stderr || cc.error}`)('a chroot breakout fails after pivot_root (and the probe does detect one)', () => {
  const marker = path.join(tmp, 'host-only');
  fs.writeFileSync(marker, 'host');
  const run = (extra: string[]) => box(['run', '--rm', '-v', `${tmp}:/probe:ro`, ...extra, 'busybox', '/probe/breakout', marker]);
  const pivoted = run([]);
  assert.is(pivoted.stdout.trim(), 'contained');
  assert.is(pivoted.status, 0);
  assert.is(run(['--no-pivot']).stdout.trim(), 'contained');
  // Control: the same probe in a plain chroot on the host does escape, so it can see one.
  const jail = path.join(tmp, 'jail');
  fs.mkdirSync(jail);
  fs.copyFileSync(path.join(tmp, 'breakout'), path.join(jail, 'probe'));
  fs.chmodSync(path.join(jail, 'probe'), 0o755);
  assert.is(spawnSync('chroot', [jail, '/probe', marker], { encoding: 'utf8' }).stdout.trim(), 'ESCAPED');
});

function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d).sort()) {
      const p = path.join(d, e);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(dir, p)} ${st.mode} ${st.size} ${st.mtimeMs} ${st.uid}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

for (const [label, env] of [['overlayfs', {}], ['plain copy (no overlayfs)', { BOX_NO_OVERLAY: '1' }]] as const) {
  test(`the image stays unchanged after writes (${label})`, () => {
    sh('true');
    const img = path.join(STATE, 'images', fs.readdirSync(path.join(STATE, 'images')).find((d) => d.startsWith('busybox-'))!, 'rootfs');
    const before = tree(img);
    const r = box(['run', '--rm', 'busybox', 'sh', '-c', 'echo x >> /etc/passwd && rm /bin/ls && touch /newfile && mkdir /newdir && chmod 700 /etc && head -1 /proc/self/mountinfo'], { env });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, label === 'overlayfs' ? / - overlay / : / - (ext4|xfs|btrfs|tmpfs|overlay) /);
    if (label !== 'overlayfs') assert.not.match(r.stdout, / - overlay overlay /);
    assert.equal(tree(img), before);
    assert.is(sh('ls /bin/ls; ls /newfile 2>&1; tail -1 /etc/passwd | grep -c "^x$"; true').trim().split('\n')[0], '/bin/ls');
  });
}

test('--read-only root; --tmpfs and -v host:ctr[:ro] volumes', () => {
  assert.match(box(['run', '--rm', '--read-only', 'busybox', 'touch', '/x']).stderr, /Read-only file system/);
  assert.is(sh('touch /tmp/x && echo ok', ['--read-only', '--tmpfs', '/tmp']).trim(), 'ok');
  assert.match(sh('grep " /scratch " /proc/self/mountinfo', ['--tmpfs', '/scratch:size=1m,mode=700']), /tmpfs.*size=1024k,mode=700/);
  const vol = path.join(tmp, 'vol');
  fs.mkdirSync(vol);
  sh('echo from-container > /data/f', ['-v', `${vol}:/data`]);
  assert.is(fs.readFileSync(path.join(vol, 'f'), 'utf8'), 'from-container\n');
  assert.match(box(['run', '--rm', '-v', `${vol}:/data:ro`, 'busybox', 'sh', '-c', 'echo x > /data/g']).stderr, /Read-only file system/);
  assert.not.ok(fs.existsSync(path.join(vol, 'g')));
  // a missing host directory is created, as Docker's -v does
  sh('true', ['-v', `${tmp}/made:/m`]);
  assert.ok(fs.statSync(`${tmp}/made`).isDirectory());
});

test('a symlink in the image cannot redirect a volume onto the host', () => {
  const rootfs = path.join(tmp, 'evil-rootfs');
  fs.mkdirSync(rootfs);
  spawnSync('tar', ['-xzf', path.join(TOP, 'images/busybox.tar.gz'), '-C', rootfs]);
  fs.symlinkSync('/../../../../' + tmp.slice(1) + '/escaped', path.join(rootfs, 'evil'));
  const r = box(['run', '--rm', '-v', `${tmp}/vol:/evil/in`, rootfs, 'true']);
  assert.is(r.status, 0, r.stderr);
  assert.not.ok(fs.existsSync(path.join(tmp, 'escaped')), 'box created a directory on the host through an image symlink');
});

test('a rootfs directory and a rootfs tarball work as IMAGE', () => {
  const tarball = path.join(TOP, 'images/busybox.tar.gz');
  assert.is(box(['run', '--rm', tarball, 'sh', '-c', 'echo $$']).stdout.trim(), '1');
  assert.is(box(['run', '--rm', path.join(tmp, 'evil-rootfs'), 'cat', '/etc/missing']).status, 1);
  const noCmd = box(['run', '--rm', tarball]);
  assert.is(noCmd.status, 125);
  assert.match(noCmd.stderr, /no command specified/);
});

test('rootfs tarballs keep absolute symlinks; a malicious one is refused and cannot touch the host', () => {
  const rootfs = path.join(tmp, 'tar-rootfs');
  fs.mkdirSync(rootfs);
  spawnSync('tar', ['-xzf', path.join(TOP, 'images/busybox.tar.gz'), '-C', rootfs]);
  const withAbs = path.join(tmp, 'abs.tar');
  spawnSync('sh', ['-c', `cd ${rootfs} && ln -s /proc/mounts etc/mtab && tar -cf ${withAbs} .`]);
  assert.is(box(['run', '--rm', withAbs, 'readlink', '/etc/mtab']).stdout, '/proc/mounts\n');
  const target = path.join(tmp, 'host-target');
  fs.mkdirSync(target);
  for (const [label, entries] of [
    ['write through a symlink', [{ name: 'bin/', type: 'dir' }, { name: 'esc', type: 'symlink', link: target }, { name: 'esc/pwned', data: 'x' }]],
    ['a .. path', [{ name: 'bin/', type: 'dir' }, { name: `../../../../../..${target}/pwned`, data: 'x' }]],
    ['an absolute path', [{ name: 'bin/', type: 'dir' }, { name: `${target}/pwned`, data: 'x' }]],
    ['a hard link out', [{ name: 'bin/', type: 'dir' }, { name: 'hl', type: 'link', link: `${target}/../../etc/hostname` }]],
  ] as const) {
    const file = path.join(tmp, 'evil.tar');
    fs.writeFileSync(file, tarball(entries as any));
    const r = box(['run', '--rm', file, 'true']);
    assert.equal(fs.readdirSync(target), [], label);
    // refused outright, or unpacked harmlessly inside the image (which has no `true` to run)
    if (r.status === 125) assert.match(r.stderr, /^box run: cannot unpack image into .*: invalid archive: /, label);
    else assert.is(r.status, 127, `${label}: ${r.stderr}`);
  }
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
