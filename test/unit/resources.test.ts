// Docker's resource flags and the files they land in, on a fake cgroupfs tree (v1 and v2).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseResources, parseBytes, sharesToWeight } from '../../lib/options/resources';
import { applyV1 } from '../../lib/cgroup/v1';
import { applyV2 } from '../../lib/cgroup/v2';
import { joinPlan, Cgroup } from '../../lib/cgroup/manager';
import { deviceProgram, parseRule } from '../../lib/cgroup/devices-bpf';

const host = { cpus: [0, 1], mems: [0] };
const parse = (v: Record<string, string>) => parseResources(v, 2, host);
const msg = (fn: () => unknown) => { try { fn(); } catch (e: any) { return e.message as string; } return ''; };

test('sizes: Docker units, 1024-based', () => {
  assert.is(parseBytes('-m', '6m'), 6 * 1024 * 1024);
  assert.is(parseBytes('-m', '1g'), 1024 ** 3);
  assert.is(parseBytes('-m', '512k'), 512 * 1024);
  assert.is(parseBytes('-m', '100'), 100);
  assert.is(parseBytes('-m', '1.5GB'), 1.5 * 1024 ** 3);
  assert.match(msg(() => parseBytes('--memory', '1x')), /invalid --memory "1x"/);
});

test('values and Docker\'s checks', () => {
  assert.equal(parse({ cpus: '0.5' }), { nanoCpus: 5e8 });
  assert.equal(parse({ 'cpu-period': '50000', 'cpu-quota': '25000' }), { cpuPeriod: 50000, cpuQuota: 25000 });
  assert.equal(parse({ 'cpu-shares': '1' }), { cpuShares: 2 });
  assert.equal(parse({ memory: '32m', 'memory-swap': '-1' }), { memory: 32 * 2 ** 20, memorySwap: -1 });
  assert.equal(parse({ 'pids-limit': '-1' }), {});
  assert.equal(parse({ 'pids-limit': '0' }), {});
  assert.equal(parse({ 'cpuset-cpus': '0-1', 'cpuset-mems': '0' }), { cpusetCpus: '0-1', cpusetMems: '0' });
  assert.match(msg(() => parse({ cpus: '3' })), /Range of CPUs is from 0\.01 to 2\.00, as there are only 2 CPUs available/);
  assert.match(msg(() => parse({ cpus: '1', 'cpu-period': '1000' })), /Conflicting options: Nano CPUs and CPU Period cannot both be set/);
  assert.match(msg(() => parse({ 'cpu-period': '10' })), /CPU cfs period can not be less than 1ms/);
  assert.match(msg(() => parse({ 'cpu-quota': '10' })), /CPU cfs quota can not be less than 1ms/);
  assert.match(msg(() => parse({ memory: '5m' })), /Minimum memory limit allowed is 6MB/);
  assert.match(msg(() => parse({ 'memory-swap': '1g' })), /You should always set the Memory limit when using Memoryswap limit/);
  assert.match(msg(() => parse({ memory: '64m', 'memory-reservation': '128m' })), /Minimum memory limit can not be less than memory reservation limit/);
  assert.match(msg(() => parse({ 'cpuset-cpus': '0,7' })), /Requested CPUs are not available - requested 0,7, available: 0-1/);
  assert.match(msg(() => parse({ 'cpuset-cpus': '1-0' })), /invalid --cpuset-cpus "1-0"/);
});

test('cpu.weight from shares, as runc and crun convert', () => {
  assert.is(sharesToWeight(2), 1);
  assert.is(sharesToWeight(1024), 39);
  assert.is(sharesToWeight(262144), 10000);
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

test('v1: each limit in its hierarchy (cpu,cpuacct co-mounted); missing files warn and are dropped', () => {
  const root = fakeTree({
    'cpu,cpuacct/cpu.cfs_period_us': '', 'cpu,cpuacct/cpu.cfs_quota_us': '', 'cpu,cpuacct/cpu.shares': '',
    'memory/memory.limit_in_bytes': '', 'memory/memory.soft_limit_in_bytes': '', // no memsw: no swap accounting
    'pids/pids.max': '', 'devices/devices.allow': '', 'devices/devices.deny': '',
  });
  const hs = [{ controllers: ['cpu', 'cpuacct'], dir: `${root}/cpu,cpuacct` }, { controllers: ['memory'], dir: `${root}/memory` }, { controllers: ['pids'], dir: `${root}/pids` }, { controllers: ['devices'], dir: `${root}/devices` }];
  const w = applyV1(hs, parse({ cpus: '0.2', 'cpu-shares': '512', memory: '32m', 'memory-swap': '64m', 'memory-reservation': '16m', 'pids-limit': '20', 'cpuset-cpus': '0' }), { privileged: false });
  assert.is(read(root, 'cpu,cpuacct/cpu.cfs_period_us'), '100000');
  assert.is(read(root, 'cpu,cpuacct/cpu.cfs_quota_us'), '20000');
  assert.is(read(root, 'cpu,cpuacct/cpu.shares'), '512');
  assert.is(read(root, 'memory/memory.limit_in_bytes'), String(32 * 2 ** 20));
  assert.is(read(root, 'memory/memory.soft_limit_in_bytes'), String(16 * 2 ** 20));
  assert.is(read(root, 'pids/pids.max'), '20');
  assert.is(read(root, 'devices/devices.allow'), 'c 10:200 rwm'); // the last rule written
  assert.is(read(root, 'devices/devices.deny'), 'a');
  assert.equal(w, [
    'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.',
    'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.',
  ]);
  fs.rmSync(root, { recursive: true });
});

test('v2: cpu.max, cpu.weight, memory.max/swap.max/low, pids.max', () => {
  const dir = fakeTree({ 'cpu.max': '', 'cpu.weight': '', 'memory.max': '', 'memory.swap.max': '', 'memory.low': '', 'pids.max': '', 'cpuset.cpus': '' });
  const noDevices = { privileged: true }; // the device program needs a real cgroup: tested as root in integration/
  const w = applyV2(dir, parse({ cpus: '1.5', 'cpu-shares': '1024', memory: '64m', 'memory-swap': '96m', 'memory-reservation': '32m', 'pids-limit': '50', 'cpuset-cpus': '1' }), noDevices);
  assert.equal(w, []);
  assert.is(read(dir, 'cpu.max'), '150000 100000');
  assert.is(read(dir, 'cpu.weight'), '39');
  assert.is(read(dir, 'memory.max'), String(64 * 2 ** 20));
  assert.is(read(dir, 'memory.swap.max'), String(32 * 2 ** 20));
  assert.is(read(dir, 'memory.low'), String(32 * 2 ** 20));
  assert.is(read(dir, 'pids.max'), '50');
  assert.is(read(dir, 'cpuset.cpus'), '1');
  applyV2(dir, parse({ memory: '64m', 'memory-swap': '-1', 'cpu-quota': '-1' }), noDevices);
  assert.is(read(dir, 'memory.swap.max'), 'max');
  assert.is(read(dir, 'cpu.max'), 'max 100000');
  const bare = fakeTree({ 'cgroup.procs': '' });
  assert.is(applyV2(bare, parse({ memory: '64m' }), noDevices).length, 1);
  fs.rmSync(dir, { recursive: true });
  fs.rmSync(bare, { recursive: true });
});

test('join plan: hierarchies whose limits would bind box\'s own Node are joined last', () => {
  const cg: Cgroup = { mode: 'v1', dirs: [], hiers: [{ controllers: ['cpu', 'cpuacct'], dir: '/c' }, { controllers: ['memory'], dir: '/m' }, { controllers: ['devices'], dir: '/d' }] };
  assert.equal(joinPlan(cg, {}), { early: ['/c/cgroup.procs', '/m/cgroup.procs', '/d/cgroup.procs'], late: [] });
  assert.equal(joinPlan(cg, { nanoCpus: 1e8, memory: 1e8 }), { early: ['/d/cgroup.procs'], late: ['/c/cgroup.procs', '/m/cgroup.procs'] });
  assert.equal(joinPlan(cg, { cpuShares: 512 }).late, []);
  const v2: Cgroup = { mode: 'v2', dirs: [], hiers: [{ controllers: ['cpu', 'memory'], dir: '/u' }] };
  assert.equal(joinPlan(v2, { pidsLimit: 5 }), { early: [], late: ['/u/cgroup.procs'] });
});

test('v2 device program: one block per rule, jumps land on the next block', () => {
  assert.equal(parseRule('c 1:3 rwm'), { type: 'c', major: 1, minor: 3, access: 7 });
  assert.equal(parseRule('b *:* m'), { type: 'b', major: '*', minor: '*', access: 1 });
  const prog = deviceProgram([parseRule('c 1:3 rwm'), parseRule('b *:* m')]);
  const insns = [...Array(prog.length / 8).keys()].map((i) => [prog[i * 8], prog[i * 8 + 1], prog.readInt16LE(i * 8 + 2), prog.readInt32LE(i * 8 + 4)]);
  // 6 loads; rule 1: type, major, minor, allow (4+… = 5 insns); rule 2: type, access (3), allow; deny
  assert.is(insns.length, 6 + 5 + 6 + 2);
  assert.equal(insns[6], [0x55, 2, 4, 2]);   // if type != char skip 4
  assert.equal(insns[7], [0x55, 4, 3, 1]);   // if major != 1 skip 3
  assert.equal(insns[8], [0x55, 5, 2, 3]);   // if minor != 3 skip 2
  assert.equal(insns[9], [0xb7, 0, 0, 1]);   // allow
  assert.equal(insns[11], [0x55, 2, 5, 1]);  // if type != block skip 5
  assert.equal(insns[13], [0x54, 1, 0, 6]);  // requested & ~m
  assert.equal(insns[insns.length - 2], [0xb7, 0, 0, 0]); // deny
  assert.throws(() => parseRule('x 1:3 rwm'), /bad device rule/);
});

test.run();
