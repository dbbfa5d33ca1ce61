// The cgroup manager without root, on fake cgroupfs trees: which backend a record's
// directories get, v2's controllers enabled at box's own level on every create (never the
// host's root), freeze waiting for the kernel's word, destroy, and the write helper's errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cgroupManager, managerForDirs } from '../../lib/cgroup/manager';
import { CgroupLayout } from '../../lib/cgroup/discover';
import { V1Cgroup } from '../../lib/cgroup/v1';
import { V2Cgroup } from '../../lib/cgroup/v2';
import { writeCgroup } from '../../lib/cgroup/write';

const CENTOS: CgroupLayout = { mode: 'v1', v1: [{ controllers: ['cpu', 'cpuacct'], mountpoint: '/sys/fs/cgroup/cpu,cpuacct' }, { controllers: ['pids'], mountpoint: '/sys/fs/cgroup/pids' }] };
const V2: CgroupLayout = { mode: 'v2', v1: [], v2: { mountpoint: '/sys/fs/cgroup', controllers: ['cpu', 'memory', 'pids'] } };

test('a write the kernel refuses names the file, the value and the errno', () => {
  const msg = (() => { try { writeCgroup('/dev/full', 99); } catch (e: any) { return `${e.message} ${e.code}`; } return ''; })();
  assert.is(msg, 'cgroup /dev/full: cannot write "99": ENOSPC (no space left on device) ENOSPC');
  assert.throws(() => writeCgroup('/nonexistent-box-dir/pids.max', '1'), (e: any) => e.code === 'ENOENT' && /\/nonexistent-box-dir\/pids.max: cannot write "1"/.test(e.message));
});

test('managerForDirs: the backend and each directory\'s controllers, from the record alone', () => {
  const v1 = managerForDirs(['/sys/fs/cgroup/cpu,cpuacct/box/a', '/sys/fs/cgroup/pids/box/a', '/gone/memory/box/a'], CENTOS);
  assert.is(v1.mode, 'v1');
  assert.equal(v1.dirs, ['/sys/fs/cgroup/cpu,cpuacct/box/a', '/sys/fs/cgroup/pids/box/a', '/gone/memory/box/a']);
  // controllers known per directory: cpu binds the first, memory (from the unknown mount's name) the third
  assert.equal(v1.joinPlan({ nanoCpus: 1e8, memory: 1e8 }).late, ['/sys/fs/cgroup/cpu,cpuacct/box/a/cgroup.procs', '/gone/memory/box/a/cgroup.procs']);
  const v2 = managerForDirs(['/sys/fs/cgroup/box-1234/a'], V2);
  assert.is(v2.mode, 'v2');
  assert.equal(v2.dirs, cgroupManager('a', V2, 'box-1234').dirs);
  assert.equal(managerForDirs([], V2).dirs, []);
  assert.equal(managerForDirs([], V2).pids(), []);
});

function fakeV2(): { root: string; layout: CgroupLayout } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'box-fakecg2-'));
  fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpu memory pids io\n');
  fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), 'cpu memory pids\n'); // the host's choice: no io
  fs.mkdirSync(path.join(root, 'box'));
  fs.writeFileSync(path.join(root, 'box', 'cgroup.controllers'), 'cpu memory pids\n');
  fs.writeFileSync(path.join(root, 'box', 'cgroup.subtree_control'), '');
  return { root, layout: { mode: 'v2', v1: [], v2: { mountpoint: root, controllers: ['cpu', 'memory', 'pids', 'io'] } } };
}

test('v2 create: box\'s parent gets its controllers enabled on every create, the host\'s root never', () => {
  const { root, layout } = fakeV2();
  const subtree = (d: string) => fs.readFileSync(path.join(root, d, 'cgroup.subtree_control'), 'utf8');
  try {
    // the parent exists already (another box made it) and has nothing enabled: this create enables it
    cgroupManager('c1', layout, 'box').create();
    assert.ok(fs.statSync(path.join(root, 'box', 'c1')).isDirectory());
    assert.is(subtree('box'), '+cpu +memory +pids');
    assert.is(subtree('.'), 'cpu memory pids\n'); // untouched
    // enabled already (the kernel lists them): nothing written
    fs.writeFileSync(path.join(root, 'box', 'cgroup.subtree_control'), 'cpu memory pids\n');
    cgroupManager('c2', layout, 'box').create();
    assert.is(subtree('box'), 'cpu memory pids\n');
    // one missing: only that one is written
    fs.writeFileSync(path.join(root, 'box', 'cgroup.subtree_control'), 'cpu\n');
    cgroupManager('c3', layout, 'box').create();
    assert.is(subtree('box'), '+memory +pids');
    cgroupManager('c3', layout, 'box').create(); // idempotent: an existing directory is fine
    // a parent made by this create: enabled as well (its controllers come from the kernel; none in a fake)
    cgroupManager('c4', layout, 'box-new').create();
    assert.ok(fs.existsSync(path.join(root, 'box-new', 'c4')));
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

test('v2 freeze waits for "frozen 1" in cgroup.events, and fails after its timeout, thawed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'box-fakecg2-'));
  try {
    fs.writeFileSync(path.join(dir, 'cgroup.freeze'), '0');
    fs.writeFileSync(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    const cg = new V2Cgroup(dir, path.dirname(dir));
    const t0 = Date.now();
    assert.throws(() => cg.freeze(200), /not frozen after 200 ms/);
    assert.ok(Date.now() - t0 >= 200);
    assert.is(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8'), '0');
    fs.writeFileSync(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n');
    cg.freeze(200);
    assert.is(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8'), '1');
    cg.thaw();
    assert.is(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8'), '0');
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('v1 freeze without a freezer hierarchy is an error; destroy removes the dirs and the emptied parent', () => {
  assert.throws(() => new V1Cgroup([{ controllers: ['pids'], dir: '/nonexistent/box/x' }]).freeze(), /no freezer/);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'box-fakecg1-'));
  try {
    for (const d of ['pids/box/x', 'pids/box/y', 'memory/box/x']) fs.mkdirSync(path.join(root, d), { recursive: true });
    new V1Cgroup([{ controllers: ['pids'], dir: `${root}/pids/box/x` }, { controllers: ['memory'], dir: `${root}/memory/box/x` }]).destroy();
    assert.equal(fs.readdirSync(path.join(root, 'pids', 'box')), ['y']); // the other container's stays, so does the parent
    assert.not.ok(fs.existsSync(path.join(root, 'memory', 'box')));
    new V1Cgroup([{ controllers: ['pids'], dir: `${root}/pids/box/x` }]).destroy(); // gone already: fine
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

test.run();
