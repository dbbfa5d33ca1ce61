// Resource limits enforced by the kernel, measured from the host through the container's
// own cgroup counters; Docker's flags land in the right files; devices are restricted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { box, boxAsync, until, STATE, needs, stop } from '../helpers/box';
import { discover } from '../../lib/cgroup/discover';

const layout = discover();
const v1dir = (controller: string, id: string) => {
  const h = layout.v1.find((x) => x.controllers.includes(controller));
  return h && fs.readdirSync(h.mountpoint).filter((d) => d.startsWith('box')).map((p) => path.join(h.mountpoint, p, id)).find((d) => fs.existsSync(d));
};
const v2dir = (id: string) => layout.v2 && fs.readdirSync(layout.v2.mountpoint).filter((d) => d.startsWith('box')).map((p) => path.join(layout.v2!.mountpoint, p, id)).find((d) => fs.existsSync(d));

/** Start a container and wait until it runs; returns its id and process. */
async function start(args: string[]) {
  const list = () => { try { return fs.readdirSync(path.join(STATE, 'containers')); } catch { return []; } };
  const before = new Set(list());
  const p = boxAsync(['run', '--rm', ...args]);
  let err = '';
  p.stderr!.on('data', (d) => { err += d; });
  const id = await until(() => {
    const ids = list().filter((i) => !before.has(i));
    return ids.find((i) => { try { return JSON.parse(fs.readFileSync(path.join(STATE, 'containers', i, 'state.json'), 'utf8')).status === 'running'; } catch { return false; } });
  }, 60000, `container to run (${err})`); // generous: in a TCG guest (vm/qemu) a start takes seconds
  return { id, p };
}

function cpuNs(id: string): number {
  if (layout.mode === 'v2') return Number(/usage_usec (\d+)/.exec(fs.readFileSync(path.join(v2dir(id)!, 'cpu.stat'), 'utf8'))![1]) * 1000;
  return Number(fs.readFileSync(path.join(v1dir('cpuacct', id)!, 'cpuacct.usage'), 'utf8'));
}

async function cpuShare(flags: string[]): Promise<number> {
  const { id, p } = await start([...flags, 'busybox', 'sh', '-c', 'while :; do :; done']);
  await new Promise((r) => setTimeout(r, 300));
  const [n0, t0] = [cpuNs(id), process.hrtime.bigint()];
  await new Promise((r) => setTimeout(r, 2200));
  const [n1, t1] = [cpuNs(id), process.hrtime.bigint()];
  await stop(p);
  return (n1 - n0) / Number(t1 - t0);
}

const cpuCounter = layout.mode === 'v2' ? !!layout.v2?.controllers.includes('cpu') : layout.v1.some((h) => h.controllers.includes('cpuacct'));
needs(test, cpuCounter, 'no CPU usage counter (cpuacct / v2 cpu controller) on this host')('--cpus 0.2 holds a busy loop at 15–25 % of one CPU; unlimited it gets > 70 %', async () => {
  const limited = await cpuShare(['--cpus', '0.2']);
  console.log(`    --cpus 0.2: ${(limited * 100).toFixed(1)} % of one CPU`);
  assert.ok(limited >= 0.15 && limited <= 0.25, `got ${(limited * 100).toFixed(1)} %`);
  const free = await cpuShare([]);
  console.log(`    unlimited: ${(free * 100).toFixed(1)} %`);
  assert.ok(free > 0.7, `got ${(free * 100).toFixed(1)} %`);
});

test('-m 32m: an allocator is OOM-killed, box exits 137 and the OOM is recorded', () => {
  const r = box(['run', '--name', 'oom-test', '-m', '32m', 'busybox', 'tail', '/dev/zero']);
  assert.is(r.status, 137, r.stderr);
  const id = fs.readlinkSync(path.join(STATE, 'names', 'oom-test'));
  const st = JSON.parse(fs.readFileSync(path.join(STATE, 'containers', id, 'state.json'), 'utf8'));
  assert.is(st.oomKilled, true);
  assert.is(st.exitCode, 137);
  assert.is(box(['rm', 'oom-test']).status, 0);
});

test('--pids-limit 20: a fork loop cannot exceed it', async () => {
  // The inner shell forks until it cannot (and then dies of it); PID 1 stays to be measured.
  const { id, p } = await start(['--pids-limit', '20', 'busybox', 'sh', '-c', 'sh -c "for i in \\$(seq 1 60); do sleep 30 & done" 2>/dev/null; exec sleep 30']);
  await new Promise((r) => setTimeout(r, 1000));
  const dir = layout.mode === 'v2' ? v2dir(id)! : v1dir('pids', id)!;
  const current = Number(fs.readFileSync(path.join(dir, 'pids.current'), 'utf8'));
  const max = fs.readFileSync(path.join(dir, 'pids.max'), 'utf8').trim();
  await stop(p);
  assert.is(max, '20');
  assert.ok(current <= 20 && current >= 15, `pids.current ${current}`);
});

test('--cpuset-cpus 0: nproc prints 1; --cpu-shares, -m, --memory-reservation land in their files', async () => {
  assert.is(box(['run', '--rm', '--cpuset-cpus', '0', 'busybox', 'nproc']).stdout.trim(), '1');
  const { id, p } = await start(['-c', '512', '-m', '64m', '--memory-reservation', '32m', '--cpus', '0.5', 'busybox', 'sleep', '30']);
  const read = (c: string, f: string) => fs.readFileSync(path.join(layout.mode === 'v2' ? v2dir(id)! : v1dir(c, id)!, f), 'utf8').trim();
  try {
    if (layout.mode === 'v2') {
      assert.is(read('cpu', 'cpu.weight'), '59'); // runc 1.3.2+/crun 1.23+: 512 shares → 59 (1024 → 100)
      assert.is(read('cpu', 'cpu.max'), '50000 100000');
      assert.is(read('memory', 'memory.max'), String(64 * 1024 * 1024));
      assert.is(read('memory', 'memory.low'), String(32 * 1024 * 1024));
    } else {
      assert.is(read('cpu', 'cpu.shares'), '512');
      assert.is(read('cpu', 'cpu.cfs_quota_us'), '50000');
      assert.is(read('cpu', 'cpu.cfs_period_us'), '100000');
      assert.is(read('memory', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
      assert.is(read('memory', 'memory.soft_limit_in_bytes'), String(32 * 1024 * 1024));
    }
  } finally {
    await stop(p);
  }
});

// The host's root disk: the block device mountinfo names for "/".
const rootDev = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[4] === '/')?.[2] ?? '0:0';
const isBlock = !rootDev.startsWith('0:') && fs.existsSync(`/sys/dev/block/${rootDev}`);
needs(test, isBlock && layout.mode !== 'v2', isBlock ? 'cgroup v2: no devices.list to read; the device program is checked by 08-devices-bpf' : `the root filesystem is not on a block device (${rootDev})`)('devices: a node for the host\'s root disk can be made but not opened; the rules are the devices cgroup\'s', async () => {
  const [maj, min] = rootDev.split(':');
  const r = box(['run', '--rm', 'busybox', 'sh', '-c', `mknod /tmp/disk b ${maj} ${min} && echo made; head -c 1 /tmp/disk >/dev/null && echo opened`]);
  assert.is(r.stdout, 'made\n', r.stderr);
  assert.match(r.stderr, /Operation not permitted/);
  // The refusal comes from box's rules: the container's devices cgroup denies the disk
  // (some hosts refuse it to root anyway, so the cgroup is what is checked, not the read).
  const { id, p } = await start(['busybox', 'sleep', '30']);
  const list = fs.readFileSync(path.join(v1dir('devices', id)!, 'devices.list'), 'utf8');
  await stop(p);
  assert.not.match(list, /^a /m);
  assert.not.match(list, new RegExp(`^b (${maj}|\\*):(${min}|\\*) [rw]`, 'm'));
  assert.match(list, /^c 1:3 rwm$/m);
  assert.match(list, /^b \*:\* m$/m);
});

needs(test, layout.mode === 'v2', `this host's cgroups are ${layout.mode}: the limit tests above ran the v1 backend; the v2 backend runs them on a pure v2 host (the qemu VM of the test-VM issue)`)('the limit tests ran on the cgroup v2 backend', () => {
  assert.is(layout.mode, 'v2');
});

test('bad limits: Docker\'s messages, exit 125', () => {
  const cases: [string[], RegExp][] = [
    [['--cpus', '0.001'], /Range of CPUs is from 0\.01 to \d+\.00/],
    [['--cpus', '1', '--cpu-quota', '50000'], /Conflicting options: Nano CPUs and CPU Quota cannot both be set/],
    [['-m', '4m'], /Minimum memory limit allowed is 6MB/],
    [['-m', '10m', '--memory-swap', '5m'], /Minimum memoryswap limit should be larger than memory limit/],
    [['--cpuset-cpus', '99'], /Requested CPUs are not available - requested 99/],
    [['--pids-limit', 'many'], /invalid --pids-limit "many"/],
    [['--pids-limit', '99999999999999999999'], /^box run: invalid --pids-limit "99999999999999999999": value out of range[^\n]*\n$/],
  ];
  for (const [flags, re] of cases) {
    const r = box(['run', '--rm', ...flags, 'busybox', 'true']);
    assert.is(r.status, 125, flags.join(' '));
    assert.match(r.stderr, re, flags.join(' '));
  }
});

test.run();
