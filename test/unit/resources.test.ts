// Docker's resource flags: units, ranges, Docker's messages; v2's weight from shares; the
// v2 device program. (Which file each limit lands in: cgroup-plan.test.ts.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseResources, parseBytes, sharesToWeight } from '../../lib/options/resources';
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

test('numbers a double cannot hold exactly are refused at parse time, naming the flag', () => {
  const big = '99999999999999999999';
  for (const flag of ['pids-limit', 'cpu-shares', 'cpu-quota', 'cpu-period']) {
    assert.match(msg(() => parse({ [flag]: big })), new RegExp(`^box run: invalid --${flag} "${big}": value out of range`), flag);
  }
  assert.match(msg(() => parse({ memory: `${big}g` })), /^box run: invalid --memory "99999999999999999999g": value out of range/);
  assert.match(msg(() => parse({ memory: '64m', 'memory-swap': '9000000t' })), /invalid --memory-swap "9000000t": value out of range/);
  assert.match(msg(() => parse({ 'pids-limit': '-99999999999999999999' })), /invalid --pids-limit .* value out of range/);
  assert.equal(parse({ 'pids-limit': String(Number.MAX_SAFE_INTEGER) }), { pidsLimit: Number.MAX_SAFE_INTEGER }); // the largest exact one is kept
  assert.equal(parse({ memory: '8t' }), { memory: 8 * 1024 ** 4 });
});

test('cpu.weight from shares: runc 1.3.2+ and crun 1.23+ (quadratic in log2 space), not the old linear map', () => {
  // the three fixed points: minimum, Docker's default, maximum; out of range is clamped
  const table: [number, number][] = [[1, 1], [2, 1], [3, 2], [512, 59], [1024, 100], [2048, 174], [262143, 10000], [262144, 10000], [300000, 10000]];
  for (const [shares, weight] of table) assert.is(sharesToWeight(shares), weight, `shares ${shares}`);
  assert.is.not(sharesToWeight(1024), 1 + Math.floor(((1024 - 2) * 9999) / 262142)); // 39: the linear map
  // monotonic: more shares never give less weight
  let prev = 0;
  for (let s = 2; s <= 262144; s = Math.ceil(s * 1.07)) { const w = sharesToWeight(s); assert.ok(w >= prev, `shares ${s}`); prev = w; }
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
