// box info reports what the host offers, probed at run time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { box } from '../helpers/box';

/** Can this host mount an overlay? Asked of the kernel itself: a real overlay mount, undone at once. */
function overlayMounts(): boolean {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'box-info-ovl-'));
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => path.join(dir, d));
  for (const d of [lower, upper, work, merged]) fs.mkdirSync(d);
  try {
    const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged], { encoding: 'utf8' });
    if (r.status !== 0) return false;
    spawnSync('umount', [merged]);
    return true;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('box info --format json: namespaces, cgroup hierarchies as mounted, overlayfs, pivot_root, versions', () => {
  const r = box(['info', '--format', 'json']);
  assert.is(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  for (const ns of ['pid', 'mnt', 'uts', 'ipc', 'net']) assert.is(info.namespaces[ns], fs.existsSync(`/proc/self/ns/${ns}`));
  assert.is(info.node, process.version);
  assert.match(info.koffi, new RegExp(`^linux-${process.arch}-(glibc|musl)$`));
  assert.match(info.version, /^\d+\.\d+\.\d+/);
  // every v1 hierarchy with a resource controller, from mountinfo, is reported with its mount point
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup /.test(l));
  for (const l of mounts) {
    const mp = l.split(' ')[4];
    if (/name=/.test(l) && !/,(cpu|memory|pids)/.test(l)) continue;
    assert.ok(Object.values(info.cgroup.v1).includes(mp), `missing ${mp}`);
  }
  const v2 = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l));
  assert.is(info.cgroup.mode, mounts.length ? (v2 ? 'hybrid' : 'v1') : v2 ? 'v2' : 'none');
  // box's answer (from /proc/filesystems or the module on disk) against a real mount
  assert.is(info.overlayfs, overlayMounts());
  // and BOX_NO_OVERLAY=1 (the tests' way to force the plain copy) turns it off
  assert.is(JSON.parse(box(['info', '--format', 'json'], { env: { BOX_NO_OVERLAY: '1' } }).stdout).overlayfs, false);
  assert.is(info.pivotRoot, true);
});

test('box info (text) and a --format template', () => {
  const r = box(['info']);
  assert.match(r.stdout, /^Box version: /m);
  assert.match(r.stdout, /^Cgroups: +(v1|v2|hybrid)/m);
  assert.match(r.stdout, new RegExp(`^Overlayfs: +${overlayMounts() ? 'yes' : 'no'}$`, 'm'));
  // --format is a Go template, as in Docker: plain text prints as is, one that does not parse is 64 (14-format)
  assert.is(box(['info', '--format', 'yaml']).stdout, 'yaml\n');
  const bad = box(['info', '--format', '{{yaml}}']);
  assert.is(bad.status, 64);
  assert.match(bad.stderr, /template parsing error: template: :1: function "yaml" not defined/);
});

test.run();
