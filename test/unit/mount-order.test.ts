// The mount executor (lib/mount/execute.ts) run for real against the recording fake libc: the
// order of the mounts containment depends on, without root. The plan itself is tested in plan.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeLibc, fakeStats } from '../fakes/libc';
import { stageConfig } from '../fakes/stage-config';
import { mountPlan, MASKED_PATHS, READONLY_PATHS } from '../../lib/mount/plan';
import { executePlan } from '../../lib/mount/execute';
import { SysError } from '../../lib/libc/errors';
import { MS, MNT_DETACH } from '../../lib/libc/constants';
import { MOUNT_ATTR, AT_RECURSIVE } from '../../lib/libc/paths';
import { ContainerSpec } from '../../lib/options/types';

const ROOT = '/c/merged';
const EINVAL = 22, EPERM = 1;

function execute(over: Partial<ContainerSpec> = {}, setup: (f: FakeLibc) => void = () => {}) {
  const fake = new FakeLibc();
  setup(fake);
  fake.install();
  try {
    executePlan(mountPlan(stageConfig(over)), ROOT);
  } finally {
    fake.restore();
  }
  return { fake, trace: fake.trace() };
}

/** The index of the first trace line equal to `line`, failing when there is none. */
function at(trace: string[], line: string): number {
  const i = trace.indexOf(line);
  assert.ok(i >= 0, `no "${line}" in:\n${trace.join('\n')}`);
  return i;
}

// /proc and /sys of the host, the container's own proc under the new root, and a tmpfs (not detached).
const MOUNTINFO = [
  `22 1 0:21 / /proc rw,nosuid,nodev,noexec - proc proc rw`,
  `23 1 0:22 / /sys rw,nosuid,nodev,noexec - sysfs sysfs rw`,
  `24 23 0:23 / /sys/fs/cgroup ro - tmpfs tmpfs ro`,
  `40 30 0:40 / ${ROOT}/proc rw,nosuid - proc proc rw`,
].join('\n') + '\n';

test('executor: private root, the rootfs, then proc/dev/sys under it, pivot_root(".", ".") + detach, then masks', () => {
  const { fake, trace } = execute();
  assert.is(trace[0], 'mount - /');
  assert.is(fake.calls[0].args[3], MS.REC | MS.PRIVATE, 'the first mount makes / private, recursively');
  const rootfs = at(trace, `mount overlay ${ROOT} overlay`);
  const proc = at(trace, `mount proc ${ROOT}/proc proc`);
  const dev = at(trace, `mount tmpfs ${ROOT}/dev tmpfs`);
  const pts = at(trace, `mount devpts ${ROOT}/dev/pts devpts`);
  const sys = at(trace, `mount sysfs ${ROOT}/sys sysfs`);
  const pivot = at(trace, 'pivotRoot . .');
  assert.ok(rootfs < proc && proc < dev && dev < pts && pts < sys && sys < pivot, trace.join('\n'));
  // device nodes go into the container's /dev tmpfs, never before it exists
  const nodes = trace.flatMap((l, i) => (l.startsWith('mknodat ') ? [i] : []));
  assert.is(nodes.length, 6);
  assert.ok(nodes.every((i) => i > dev && i < pivot));
  // mknod's mode went through the umask: each node is chmod'ed after it is made
  for (const n of ['null', 'zero', 'tty']) assert.ok(at(trace, `mknodat ${ROOT}/dev/${n}`) < at(trace, `chmod ${ROOT}/dev/${n}`), n);
  // pivot_root from inside the new root, then the old root detached at once, then into "/"
  assert.is(trace[pivot - 1], `chdir ${ROOT}`);
  assert.is(trace[pivot + 1], 'umount2 .');
  assert.is(fake.calls[pivot + 1].args[1], MNT_DETACH);
  assert.is(trace[pivot + 2], 'chdir /');
  assert.not.ok(trace.includes('chroot .'), 'no chroot when pivot_root works');
  // nothing is mounted through a host path after the pivot; masks and read-only paths only after it
  const after = trace.slice(pivot + 1);
  assert.not.ok(after.some((l) => l.startsWith('mount') && l.includes(ROOT)), after.join('\n'));
  assert.not.ok(trace.slice(0, pivot).some((l) => / \/proc\/(kcore|bus|sys)\b/.test(l)), 'no mask or read-only path before the pivot');
  for (const p of MASKED_PATHS) assert.ok(at(trace, `mount /dev/null ${p}`) > pivot, p);
  for (const p of READONLY_PATHS) assert.ok(at(trace, `mount ${p} ${p}`) > pivot, p);
  for (const p of READONLY_PATHS) assert.ok(at(trace, `mountSetattr ${p}`) > at(trace, `mount ${p} ${p}`), `${p}: bound, then locked down`);
});

test('executor: a masked directory gets an empty read-only tmpfs; a missing path is skipped', () => {
  const { fake, trace } = execute({}, (f) => {
    f.stats.set('/proc/acpi', fakeStats({ type: 'dir' }));
    f.script.stat = (p) => { if (p === '/proc/asound') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); return f.stats.get(p) ?? fakeStats(); };
  });
  const i = at(trace, 'mount tmpfs /proc/acpi tmpfs');
  assert.is(fake.calls[i].args[3], MS.RDONLY);
  assert.not.ok(trace.some((l) => l.startsWith('mount') && l.includes('/proc/asound')));
});

test('executor: pivot_root EINVAL (rootfs/initramfs) → host /proc and /sys detached, MS_MOVE, chroot', () => {
  const { fake, trace } = execute({}, (f) => {
    f.files.set('/proc/self/mountinfo', MOUNTINFO);
    f.script.pivotRoot = () => { throw new SysError('pivot_root', EINVAL, '.'); };
  });
  const pivot = at(trace, 'pivotRoot . .');
  assert.not.ok(trace.includes('umount2 .'), 'nothing to detach: pivot_root failed');
  // newest first, and only whole proc/sysfs mounts outside the new root
  const sys = at(trace, 'umount2 /sys'), proc = at(trace, 'umount2 /proc');
  assert.ok(pivot < sys && sys < proc, trace.join('\n'));
  assert.not.ok(trace.includes(`umount2 ${ROOT}/proc`));
  assert.not.ok(trace.includes('umount2 /sys/fs/cgroup'));
  const move = at(trace, `mount ${ROOT} /`);
  assert.is(fake.calls[move].args[3], MS.MOVE);
  assert.ok(proc < move, 'the host kernel filesystems go before the root moves over them');
  assert.equal(trace.slice(move + 1, move + 3), ['chroot .', 'chdir /']);
  for (const p of MASKED_PATHS) assert.ok(at(trace, `mount /dev/null ${p}`) > move + 2, p);
});

test('executor: --no-pivot goes straight to MS_MOVE + chroot; pivot_root EPERM is an error, not a fallback', () => {
  const { trace } = execute({ noPivot: true }, (f) => f.files.set('/proc/self/mountinfo', MOUNTINFO));
  assert.not.ok(trace.includes('pivotRoot . .'));
  assert.ok(at(trace, 'umount2 /proc') < at(trace, `mount ${ROOT} /`));
  assert.ok(at(trace, `mount ${ROOT} /`) < at(trace, 'chroot .'));

  assert.throws(() => execute({}, (f) => { f.script.pivotRoot = () => { throw new SysError('pivot_root', EPERM, '.'); }; }), /pivot_root/);
});

test('executor: /sys/fs/cgroup (v1) — a tmpfs, then each hierarchy made and bound in it, the links, then one recursive lock-down; all before the pivot', () => {
  const fake = new FakeLibc();
  fake.install();
  try {
    const cfg = { ...stageConfig(), cgroupfs: { v2: false, dirs: ['/sys/fs/cgroup/cpu,cpuacct/box/c1', '/sys/fs/cgroup/memory/box/c1'] } };
    executePlan(mountPlan(cfg), ROOT);
  } finally {
    fake.restore();
  }
  const trace = fake.trace();
  const cg = `${ROOT}/sys/fs/cgroup`;
  const tmpfs = at(trace, `mount tmpfs ${cg} tmpfs`);
  const lines = [`mkdirat ${cg}/cpu,cpuacct`, `mount /sys/fs/cgroup/cpu,cpuacct/box/c1 ${cg}/cpu,cpuacct`, `mkdirat ${cg}/memory`, `mount /sys/fs/cgroup/memory/box/c1 ${cg}/memory`, `symlinkat ${cg}/cpu`, `symlinkat ${cg}/cpuacct`, `mountSetattr ${cg}`];
  const seen = lines.map((l) => at(trace, l));
  assert.ok(seen.every((n, i) => n > tmpfs && (i === 0 || n > seen[i - 1])), trace.join('\n'));
  assert.ok(at(trace, `mount sysfs ${ROOT}/sys sysfs`) < tmpfs && seen[seen.length - 1] < at(trace, 'pivotRoot . .'));
  const bind = fake.calls.find((c) => c.name === 'mount' && c.args[0] === '/sys/fs/cgroup/memory/box/c1')!;
  assert.is(bind.args[3], MS.BIND, 'one plain bind: no MS_REC (nothing below a cgroup directory is mounted)');
  const lock = fake.calls.find((c) => c.name === 'mountSetattr' && fake.opened.get(c.args[0]) === cg)!;
  assert.is(lock.args[2], MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC);
  assert.is(lock.args[1] & AT_RECURSIVE, AT_RECURSIVE, 'the tmpfs and every bind in it');
});

test('executor: /sys/fs/cgroup (v2) — the container\'s directory bound; --privileged leaves it writable, still nosuid, nodev, noexec', () => {
  for (const privileged of [false, true]) {
    const fake = new FakeLibc();
    fake.install();
    try {
      executePlan(mountPlan({ ...stageConfig({ privileged }), cgroupfs: { v2: true, dirs: ['/sys/fs/cgroup/box/c1'] } }), ROOT);
    } finally {
      fake.restore();
    }
    const trace = fake.trace();
    const cg = `${ROOT}/sys/fs/cgroup`;
    assert.ok(at(trace, `mount /sys/fs/cgroup/box/c1 ${cg}`) < at(trace, `mountSetattr ${cg}`));
    assert.not.ok(trace.some((l) => l.startsWith(`mount tmpfs ${cg}`)), 'no tmpfs on v2');
    const lock = fake.calls.find((c) => c.name === 'mountSetattr' && fake.opened.get(c.args[0]) === cg)!;
    assert.is(lock.args[2], (privileged ? 0 : MOUNT_ATTR.RDONLY) | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC, `privileged: ${privileged}`);
  }
});

test.run();
