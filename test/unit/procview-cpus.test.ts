// procview's CPU views: which CPUs a container is shown (cpuset, quota), /proc/cpuinfo,
// /sys/devices/system/cpu/online and /proc/stat, from this host's files and real cgroup files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { visibleCpus, parseQuota, cpuOnline, cpuinfo } from '../../lib/procview/cpus';
import { stat, parseUsageAll } from '../../lib/procview/stat';
import { parseCpuList } from '../../lib/procview/parse';

const fx = (f: string) => fs.readFileSync(path.join(__dirname, '../fixtures/procview', f), 'utf8');
const procs = (text: string) => [...text.matchAll(/^processor\s*:\s*(\d+)$/gm)].map((m) => Number(m[1]));

test('cpu lists as the kernel prints them', () => {
  assert.equal(parseCpuList('0-3,5,7-8\n'), [0, 1, 2, 3, 5, 7, 8]);
  assert.equal(parseCpuList('1'), [1]);
  assert.equal(parseCpuList(''), []);
  assert.is(parseCpuList('0-99999').length, 4096); // bounded
});

test('quota: v1 cfs files ("-1": none), v2 cpu.max ("max": none)', () => {
  assert.equal(parseQuota(false, '100000\n', '100000\n'), { quota: 100000, period: 100000 });
  assert.equal(parseQuota(false, '-1\n', '100000\n'), {});
  assert.equal(parseQuota(true, '150000 100000\n'), { quota: 150000, period: 100000 });
  assert.equal(parseQuota(true, 'max 100000\n'), {});
});

test('visible CPUs: the cpuset within the online ones, cut to ceil(quota/period), at least one', () => {
  const online = [0, 1, 2, 3];
  assert.equal(visibleCpus(online, undefined), online);
  assert.equal(visibleCpus(online, [1, 3]), [1, 3]);
  assert.equal(visibleCpus(online, [2, 3], 100000, 100000), [2]);
  assert.equal(visibleCpus(online, undefined, 150000, 100000), [0, 1]);
  assert.equal(visibleCpus(online, undefined, 1000, 100000), [0]);
  assert.equal(visibleCpus(online, [7]), online); // a cpuset of CPUs gone offline: never zero CPUs
});

test('cpuinfo: only the visible processors, renumbered from 0, siblings/cores matching', () => {
  const host = fx('host-cpuinfo');
  assert.equal(procs(host), [0, 1]);
  const one = cpuinfo(host, [1]);
  assert.equal(procs(one), [0]);
  assert.match(one, /^siblings\s*: 1$/m);
  assert.match(one, /^cpu cores\s*: 1$/m);
  assert.match(one, /^apicid\s*: 1$/m); // the block is host CPU 1's
  assert.ok(one.endsWith('\n\n'));
  assert.equal(procs(cpuinfo(host, [0, 1])), [0, 1]);
});

test('online: "0" for one CPU, a range from 0 otherwise', () => {
  assert.is(cpuOnline(1), '0\n');
  assert.is(cpuOnline(3), '0-2\n');
});

test('stat v1: per-CPU user/system from cpuacct.usage_all in ticks; the rest of each CPU\'s time idle; other lines kept', () => {
  const host = fx('host-stat'), per = parseUsageAll(fx('v1-cpuacct.usage_all'));
  assert.equal([...per.keys()], [0, 1]);
  let user = 0, system = 0;
  for (const u of per.values()) { user += u.user; system += u.system; }
  const out = stat(host, [0, 1], { perCpu: per, user, system }, 3);
  const lines = out.split('\n');
  assert.match(lines[0], /^cpu  \d+/);
  const cpu1 = lines[2].split(' ');
  assert.is(cpu1[0], 'cpu1');
  assert.is(Number(cpu1[1]), Math.floor(per.get(1)!.user / 1e7));
  assert.is(Number(cpu1[3]), Math.floor(per.get(1)!.system / 1e7));
  const hostCpu1 = /^cpu1 (.*)$/m.exec(host)![1].split(' ').map(Number);
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  assert.ok(Math.abs(sum(cpu1.slice(1).map(Number)) - sum(hostCpu1.slice(0, 8))) <= 2, 'columns still add up to the CPU\'s wall time');
  assert.match(out, /^procs_running 3$/m);
  assert.match(out, /^btime \d+$/m);
  assert.match(out, /^ctxt \d+$/m);
});

test('stat with a quota below the cpuset (or v2, no per-CPU figures): one cpu line, all the usage on it', () => {
  const out = stat(fx('host-stat'), [0], { user: 3e9, system: 1e9 });
  const cpuLines = out.split('\n').filter((l) => /^cpu\d/.test(l));
  assert.equal(cpuLines.map((l) => l.split(' ')[0]), ['cpu0']);
  assert.equal(cpuLines[0].split(' ').slice(1, 4).map(Number), [300, 0, 100]);
  const v2 = stat(fx('host-stat'), [0, 1], { user: 2e9, system: 0 });
  assert.equal(v2.split('\n').filter((l) => /^cpu\d/.test(l)).map((l) => Number(l.split(' ')[1])), [100, 100]);
});

test.run();
