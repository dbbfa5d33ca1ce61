// Which cgroup file gets which value for Docker's flags (v1 and v2), as data; the executor
// on a fake cgroupfs tree (missing files warn and are dropped); the join plan.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseResources } from '../../lib/options/resources';
import { planV1, V1Cgroup } from '../../lib/cgroup/v1';
import { planV2, V2Cgroup } from '../../lib/cgroup/v2';
import { CgroupWrite } from '../../lib/cgroup/base';
import { DEFAULT_DEVICE_RULES } from '../../lib/cgroup/files';

const parse = (v: Record<string, string>) => parseResources(v, 2, { cpus: [0, 1], mems: [0] });
const writes = (plan: CgroupWrite[]) => plan.map((w) => `${w.controller} ${w.file}=${w.value}`);
const MiB = 2 ** 20;

test('v1: each of Docker\'s flags in its controller\'s file', () => {
  const r = parse({ cpus: '0.2', 'cpu-shares': '512', 'cpuset-cpus': '0', 'cpuset-mems': '0', 'memory-reservation': '16m', memory: '32m', 'pids-limit': '20' });
  assert.equal(writes(planV1(r, { devices: false })), [
    'cpu cpu.cfs_period_us=100000', 'cpu cpu.cfs_quota_us=20000', 'cpu cpu.shares=512',
    'cpuset cpuset.cpus=0', 'cpuset cpuset.mems=0', `memory memory.soft_limit_in_bytes=${16 * MiB}`,
    `memory memory.limit_in_bytes=${32 * MiB}`, `memory memory.memsw.limit_in_bytes=${64 * MiB}`, // Docker: swap as large as memory
    'pids pids.max=20',
  ]);
  assert.equal(writes(planV1(parse({ 'cpu-quota': '-1' }), { devices: false })), ['cpu cpu.cfs_period_us=100000', 'cpu cpu.cfs_quota_us=-1']);
  assert.equal(writes(planV1(parse({ 'cpu-period': '50000', 'cpu-quota': '25000' }), { devices: false })), ['cpu cpu.cfs_period_us=50000', 'cpu cpu.cfs_quota_us=25000']);
  assert.equal(planV1({}, { devices: false }), []);
});

test('v1: memsw is written only beside memory, warns only when asked for, and goes first when the limits rise', () => {
  const swap = planV1(parse({ memory: '32m' }), { devices: false }).find((w) => w.file === 'memory.memsw.limit_in_bytes')!;
  assert.is(swap.needs, 'memory.limit_in_bytes');
  assert.is(swap.missing, undefined); // no swap accounting and no --memory-swap: quiet
  assert.ok(planV1(parse({ memory: '32m', 'memory-swap': '64m' }), { devices: false }).find((w) => w.file === 'memory.memsw.limit_in_bytes')!.missing);
  const order = (v: Record<string, string>, memoryNow?: number) => planV1(parse(v), { devices: false, memoryNow }).map((w) => w.file);
  // create: memory is unlimited now, and memory ≤ memsw holds after each write
  assert.equal(order({ memory: '32m' }, 2 ** 63), ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes']);
  // update 32m/64m → 128m/256m: memsw first, else memory 128m > memsw 64m is EINVAL
  assert.equal(order({ memory: '128m', 'memory-swap': '256m' }, 32 * MiB), ['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes']);
  // update down: memory first
  assert.equal(order({ memory: '16m', 'memory-swap': '32m' }, 64 * MiB), ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes']);
  assert.equal(order({ memory: '16m', 'memory-swap': '-1' }, 64 * MiB), ['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes']);
});

test('v1: the device rules (unprivileged): deny all, then Docker\'s allow list', () => {
  const plan = planV1({}, { devices: true });
  assert.equal(writes(plan), ['devices devices.deny=a', ...DEFAULT_DEVICE_RULES.map((r) => `devices devices.allow=${r}`)]);
  assert.ok(plan[0].missing);
  assert.ok(plan.slice(1).every((w) => w.needs === 'devices.deny' && !w.missing));
});

test('v2: cpu.max, cpu.weight (1024 shares → 100), memory.max/low, swap.max = swap alone, pids.max', () => {
  const r = parse({ cpus: '1.5', 'cpu-shares': '1024', memory: '64m', 'memory-swap': '96m', 'memory-reservation': '32m', 'pids-limit': '50', 'cpuset-cpus': '1' });
  assert.equal(writes(planV2(r)), [
    'cpu cpu.max=150000 100000', 'cpu cpu.weight=100', 'cpuset cpuset.cpus=1', `memory memory.low=${32 * MiB}`,
    `memory memory.max=${64 * MiB}`, `memory memory.swap.max=${32 * MiB}`, 'pids pids.max=50',
  ]);
  assert.equal(writes(planV2(parse({ memory: '64m', 'memory-swap': '-1', 'cpu-quota': '-1' }))), ['cpu cpu.max=max 100000', `memory memory.max=${64 * MiB}`, 'memory memory.swap.max=max']);
  assert.equal(writes(planV2(parse({ memory: '64m' }))), [`memory memory.max=${64 * MiB}`, `memory memory.swap.max=${64 * MiB}`]);
  assert.equal(writes(planV2(parse({ 'cpu-shares': '512' }))), ['cpu cpu.weight=59']);
});

function fakeTree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'box-fakecg-'));
  for (const [f, v] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), v);
  }
  return dir;
}
const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), 'utf8');

test('v1 apply on a fake tree: values in their hierarchy (cpu,cpuacct co-mounted); missing files warn once and are dropped', () => {
  const root = fakeTree({
    'cpu,cpuacct/cpu.cfs_period_us': '', 'cpu,cpuacct/cpu.cfs_quota_us': '', 'cpu,cpuacct/cpu.shares': '',
    'memory/memory.limit_in_bytes': '9223372036854771712', 'memory/memory.soft_limit_in_bytes': '', // no memsw: no swap accounting
    'pids/pids.max': '', 'devices/devices.allow': '', 'devices/devices.deny': '',
  });
  try {
    const cg = new V1Cgroup([{ controllers: ['cpu', 'cpuacct'], dir: `${root}/cpu,cpuacct` }, { controllers: ['memory'], dir: `${root}/memory` }, { controllers: ['pids'], dir: `${root}/pids` }, { controllers: ['devices'], dir: `${root}/devices` }]);
    const res = cg.apply(parse({ cpus: '0.2', 'cpu-shares': '512', memory: '32m', 'memory-swap': '64m', 'memory-reservation': '16m', 'pids-limit': '20', 'cpuset-cpus': '0', 'cpuset-mems': '0' }), { privileged: false });
    assert.is(read(root, 'cpu,cpuacct/cpu.cfs_period_us'), '100000');
    assert.is(read(root, 'cpu,cpuacct/cpu.cfs_quota_us'), '20000');
    assert.is(read(root, 'cpu,cpuacct/cpu.shares'), '512');
    assert.is(read(root, 'memory/memory.limit_in_bytes'), String(32 * MiB));
    assert.is(read(root, 'memory/memory.soft_limit_in_bytes'), String(16 * MiB));
    assert.is(read(root, 'pids/pids.max'), '20');
    assert.is(read(root, 'devices/devices.allow'), 'c 10:200 rwm'); // the last rule written
    assert.is(read(root, 'devices/devices.deny'), 'a');
    assert.equal(res, { warnings: [
      'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.', // once for cpus and mems
      'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.',
    ] });
    assert.equal(cg.update(parse({ 'pids-limit': '30' })), { warnings: [] });
    assert.is(read(root, 'pids/pids.max'), '30');
    assert.is(read(root, 'devices/devices.allow'), 'c 10:200 rwm');
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

test('v2 apply on a fake tree; a bare cgroup warns for each limit', () => {
  const dir = fakeTree({ 'cpu.max': '', 'cpu.weight': '', 'memory.max': '', 'memory.swap.max': '', 'memory.low': '', 'pids.max': '', 'cpuset.cpus': '' });
  const bare = fakeTree({ 'cgroup.procs': '' });
  try {
    const noDevices = { privileged: true }; // the device program needs a real cgroup: tested as root in integration/
    const res = new V2Cgroup(dir, path.dirname(dir)).apply(parse({ cpus: '1.5', 'cpu-shares': '1024', memory: '64m', 'pids-limit': '50', 'cpuset-cpus': '1' }), noDevices);
    assert.equal(res, { warnings: [] });
    assert.is(read(dir, 'cpu.weight'), '100');
    assert.is(read(dir, 'memory.swap.max'), String(64 * MiB));
    const w = new V2Cgroup(bare, path.dirname(bare)).apply(parse({ memory: '64m', 'memory-swap': '96m', 'pids-limit': '5' }), noDevices).warnings;
    assert.equal(w, [
      'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.',
      'Your kernel does not support pids limit capabilities or the cgroup is not mounted. PIDs limit discarded.',
    ]); // swap.max needs memory.max: no second warning for it
  } finally {
    fs.rmSync(dir, { recursive: true });
    fs.rmSync(bare, { recursive: true });
  }
});

test('join plan: hierarchies whose limits would bind box\'s own Node are joined last', () => {
  const cg = new V1Cgroup([{ controllers: ['cpu', 'cpuacct'], dir: '/c' }, { controllers: ['memory'], dir: '/m' }, { controllers: ['devices'], dir: '/d' }, { controllers: ['cpuset'], dir: '/s' }, { controllers: ['pids'], dir: '/p' }]);
  assert.equal(cg.joinPlan({}), { early: ['/c/cgroup.procs', '/m/cgroup.procs', '/d/cgroup.procs', '/s/cgroup.procs', '/p/cgroup.procs'], late: [] });
  assert.equal(cg.joinPlan({ nanoCpus: 1e8, memory: 1e8 }), { early: ['/d/cgroup.procs', '/s/cgroup.procs', '/p/cgroup.procs'], late: ['/c/cgroup.procs', '/m/cgroup.procs'] });
  assert.equal(cg.joinPlan({ cpuQuota: 50000 }).late, ['/c/cgroup.procs']);
  assert.equal(cg.joinPlan({ cpusetCpus: '0', pidsLimit: 9, memoryReservation: 1e8 }).late, ['/m/cgroup.procs', '/s/cgroup.procs', '/p/cgroup.procs']);
  assert.equal(cg.joinPlan({ cpuShares: 512, memorySwap: -1 }).late, []); // shares bind nobody alone
  const v2 = new V2Cgroup('/u/box/x', '/u');
  assert.equal(v2.joinPlan({ pidsLimit: 5 }), { early: [], late: ['/u/box/x/cgroup.procs'] });
  assert.equal(v2.joinPlan({ cpuShares: 5 }), { early: ['/u/box/x/cgroup.procs'], late: [] });
});

test('join plan, own thread: v1 joins every hierarchy late through tasks (no RCU wait); v2 as before', () => {
  const cg = new V1Cgroup([{ controllers: ['cpu', 'cpuacct'], dir: '/c' }, { controllers: ['memory'], dir: '/m' }]);
  assert.equal(cg.joinPlan({}, { ownThread: true }), { early: [], late: ['/c/tasks', '/m/tasks'] });
  assert.equal(cg.joinPlan({ memory: 1e8 }, { ownThread: true }), { early: [], late: ['/c/tasks', '/m/tasks'] });
  const v2 = new V2Cgroup('/u/box/x', '/u');
  assert.equal(v2.joinPlan({}, { ownThread: true }), { early: ['/u/box/x/cgroup.procs'], late: [] });
  assert.equal(v2.joinPlan({ pidsLimit: 5 }, { ownThread: true }), { early: [], late: ['/u/box/x/cgroup.procs'] });
});

test.run();
