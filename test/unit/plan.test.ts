import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mountPlan, preparedPlan, MASKED_PATHS, READONLY_PATHS, MountOp } from '../../lib/mount/plan';
import { MS } from '../../lib/libc/constants';
import { StageConfig, ContainerSpec } from '../../lib/options/types';
import { resolveCaps, DEFAULT_CAPS, CAPS } from '../../lib/options/capabilities';

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  id: 'x', name: 'n', image: 'busybox', command: ['sh'], env: [], workdir: '/', user: { uid: 0, gid: 0, groups: [] },
  hostname: 'h', tty: false, stdin: false, rm: true, init: false, readOnly: false, noPivot: false, privileged: false,
  capabilities: DEFAULT_CAPS, seccomp: 'builtin', noNewPrivileges: false, volumes: [], tmpfs: [], resources: {}, stopSignal: 'SIGTERM', stopTimeout: 10, ...over,
});
const cfg = (over: Partial<ContainerSpec> = {}, copy = false): StageConfig => ({
  spec: spec(over), cgroupProcs: [], cgroupns: true,
  rootfs: copy ? { lower: ['/img'], merged: '/c/merged', copy: true } : { lower: ['/img'], upper: '/c/upper', work: '/c/work', merged: '/c/merged' },
});
const idx = (ops: MountOp[], pred: (o: any) => boolean) => ops.findIndex(pred);

test('order: private root first, overlay rootfs, then proc/dev/sys under it, pivot, then masks', () => {
  const ops = mountPlan(cfg());
  assert.equal(ops[0], { op: 'private-root' });
  assert.equal(ops[1], { op: 'mount', source: 'overlay', target: '/c/merged', fstype: 'overlay', flags: 0, data: 'lowerdir=/img,upperdir=/c/upper,workdir=/c/work' });
  const pivot = idx(ops, (o) => o.op === 'pivot');
  for (const t of ['/c/merged/proc', '/c/merged/dev', '/c/merged/dev/pts', '/c/merged/sys']) {
    const i = idx(ops, (o) => o.op === 'mount' && o.target === t);
    assert.ok(i > 1 && i < pivot, t);
  }
  assert.equal(ops.slice(pivot + 1).filter((o) => o.op === 'mask').map((o: any) => o.path), MASKED_PATHS);
  assert.equal(ops.slice(pivot + 1).filter((o) => o.op === 'readonly').map((o: any) => o.path), READONLY_PATHS);
  assert.ok(!ops.some((o) => o.op === 'file'), 'no /dev/console without a tty');
});

test('devpts is a new instance; device nodes are the standard six', () => {
  const ops = mountPlan(cfg({ tty: true }));
  const devpts = ops.find((o: any) => o.fstype === 'devpts') as any;
  assert.match(devpts.data, /newinstance/);
  assert.equal(ops.filter((o) => o.op === 'mknod').map((o: any) => o.path.split('/').pop()), ['null', 'zero', 'full', 'random', 'urandom', 'tty']);
  assert.ok(ops.some((o) => o.op === 'file' && o.path === '/c/merged/dev/console'));
});

test('copy fallback, volumes, tmpfs, read-only, privileged, no-pivot', () => {
  const ops = mountPlan(cfg({ volumes: [{ source: '/h', target: '/data', readonly: true }], tmpfs: [{ target: '/t', options: '' }], readOnly: true, privileged: true, noPivot: true }, true));
  assert.equal(ops[1], { op: 'copy-rootfs', from: ['/img'], to: '/c/merged' });
  const vol = idx(ops, (o) => o.op === 'mount' && o.target === '/c/merged/data');
  assert.equal(ops[vol + 1], { op: 'remount-ro', path: '/c/merged/data', recursive: true });
  assert.ok(ops.some((o) => o.op === 'mount' && o.target === '/c/merged/t' && o.fstype === 'tmpfs'));
  assert.equal(ops.find((o) => o.op === 'pivot'), { op: 'pivot', root: '/c/merged', noPivot: true });
  assert.ok(!ops.some((o) => o.op === 'mask' || o.op === 'readonly'), 'privileged: no masks');
  assert.equal(ops[ops.length - 1], { op: 'remount-ro', path: '/', recursive: false });
});

test('capabilities: Docker defaults, add/drop, ALL, privileged', () => {
  assert.is(DEFAULT_CAPS.length, 14);
  assert.equal(resolveCaps([], [], false).sort(), [...DEFAULT_CAPS].sort());
  assert.ok(resolveCaps(['sys_admin'], [], false).includes('SYS_ADMIN'));
  assert.ok(!resolveCaps([], ['CAP_CHOWN'], false).includes('CHOWN'));
  assert.equal(resolveCaps([], ['ALL'], false), []);
  assert.equal(resolveCaps(['NET_ADMIN'], ['ALL'], false), ['NET_ADMIN']);
  assert.equal(resolveCaps(['ALL'], [], false), CAPS);
  assert.equal(resolveCaps([], [], true), CAPS);
  assert.throws(() => resolveCaps(['BOGUS'], [], false), /unknown capability/);
});

const CENTOS_DIRS = ['/sys/fs/cgroup/systemd/box/x', '/sys/fs/cgroup/cpu,cpuacct/box/x', '/sys/fs/cgroup/net_cls,net_prio/box/x', '/sys/fs/cgroup/memory/box/x'];
const withCgroups = (over: Partial<ContainerSpec>, cgroupfs: StageConfig['cgroupfs']): StageConfig => ({ ...cfg(over), cgroupfs });

test('/sys/fs/cgroup: v1, one bind per hierarchy named by its mount point, co-mount symlinks; after sysfs, before volumes and the pivot; read-only unless privileged', () => {
  const ops = mountPlan(withCgroups({ volumes: [{ source: '/h', target: '/sys/fs/cgroup/memory', readonly: false }] }, { v2: false, dirs: CENTOS_DIRS }));
  const i = idx(ops, (o) => o.op === 'cgroupfs');
  assert.equal(ops[i], {
    op: 'cgroupfs', target: '/c/merged/sys/fs/cgroup', readonly: true,
    v1: [['systemd', 0], ['cpu,cpuacct', 1], ['net_cls,net_prio', 2], ['memory', 3]].map(([name, n]) => ({ name, dir: CENTOS_DIRS[n as number] })),
    links: [['cpu', 'cpu,cpuacct'], ['cpuacct', 'cpu,cpuacct'], ['net_cls', 'net_cls,net_prio'], ['net_prio', 'net_cls,net_prio']],
  });
  assert.ok(i > idx(ops, (o) => o.op === 'mount' && o.fstype === 'sysfs'), 'on the container\'s sysfs');
  assert.ok(i < idx(ops, (o) => o.op === 'mount' && o.target === '/c/merged/sys/fs/cgroup/memory'), 'a volume below it goes on top');
  assert.ok(i < idx(ops, (o) => o.op === 'pivot'), 'the host\'s cgroup directories are bound while they are visible');
  assert.is((mountPlan(withCgroups({ privileged: true }, { v2: false, dirs: CENTOS_DIRS })).find((o) => o.op === 'cgroupfs') as any).readonly, false);
  // this host's layout: every controller apart, no symlinks
  const here = mountPlan(withCgroups({}, { v2: false, dirs: ['/sys/fs/cgroup/cpu/box/x', '/sys/fs/cgroup/cpuacct/box/x'] })).find((o) => o.op === 'cgroupfs') as any;
  assert.equal(here.links, []);
});

test('/sys/fs/cgroup: v2, the container\'s directory bound there; none without cgroups; a volume or --tmpfs there replaces it (Docker)', () => {
  assert.equal(mountPlan(withCgroups({}, { v2: true, dirs: ['/sys/fs/cgroup/box/x'] })).find((o) => o.op === 'cgroupfs'),
    { op: 'cgroupfs', target: '/c/merged/sys/fs/cgroup', v2: '/sys/fs/cgroup/box/x', readonly: true });
  assert.not.ok(mountPlan(withCgroups({}, { v2: false, dirs: [] })).some((o) => o.op === 'cgroupfs'));
  assert.not.ok(mountPlan(cfg()).some((o) => o.op === 'cgroupfs'), 'an exec or an older caller sends none');
  assert.not.ok(mountPlan(withCgroups({ volumes: [{ source: '/sys/fs/cgroup', target: '/sys/fs/cgroup', readonly: true }] }, { v2: true, dirs: ['/sys/fs/cgroup/box/x'] })).some((o) => o.op === 'cgroupfs'));
  assert.not.ok(mountPlan(withCgroups({ tmpfs: [{ target: '/sys/fs/cgroup', options: '' }] }, { v2: true, dirs: ['/sys/fs/cgroup/box/x'] })).some((o) => o.op === 'cgroupfs'));
});

test.run();

test('prepared kernel filesystems (a pooled stage\'s, lib/mount/prepared.ts): bound in whole after the rootfs; no private-root, sysctls or masks left to do; a spec that needs others gets them made, the prepared ones detached first', () => {
  const P = '/proc/self/fd/9';
  const ops = mountPlan(cfg(), P);
  assert.ok(!ops.some((o) => o.op === 'private-root' || o.op === 'sysctl' || o.op === 'mask' || o.op === 'readonly' || o.op === 'detach'));
  const binds = ops.filter((o: any) => o.op === 'mount' && o.source.startsWith(P));
  assert.equal(binds.map((o: any) => [o.source, o.target, o.flags]), ['proc', 'dev', 'sys'].map((f) => [`${P}/${f}`, `/c/merged/${f}`, MS.BIND | MS.REC]));
  assert.ok(idx(ops, (o) => o.target === '/c/merged') < idx(ops, (o) => o.source === `${P}/proc`), 'after the rootfs');
  assert.ok(!ops.some((o: any) => o.op === 'mount' && ['proc', 'sysfs', 'devpts', 'mqueue'].includes(o.fstype)), 'nothing made again');
  for (const over of [{ privileged: true }, { shmSize: 1 << 20 }, { sysctls: { 'net.ipv4.ip_forward': '1' } }, { noPivot: true }] as Partial<ContainerSpec>[]) {
    const own = mountPlan(cfg(over), P);
    assert.equal(own.slice(0, 2), [{ op: 'private-root' }, { op: 'detach', path: P }], JSON.stringify(over));
    assert.ok(own.some((o: any) => o.op === 'mount' && o.fstype === 'proc'), JSON.stringify(over));
    assert.ok(!own.some((o: any) => o.op === 'mount' && o.source.startsWith(P)), JSON.stringify(over));
  }
});

test('the prepared plan: /proc, /dev, /sys under the staging directory, the default sysctls through its /proc, masks bound from its own /dev/null', () => {
  const ops = preparedPlan('/s');
  assert.ok(ops.every((o: any) => o.op === 'sysctl' || (o.op === 'symlink' ? o.path : o.target ?? o.path).startsWith('/s/')));
  assert.ok(ops.filter((o) => o.op === 'sysctl').every((o: any) => o.proc === '/s/proc' && o.optional));
  assert.equal(ops.filter((o) => o.op === 'mask').map((o: any) => [o.path, o.nullDev]), MASKED_PATHS.map((p) => [`/s${p}`, '/s/dev/null']));
  assert.equal(ops.filter((o) => o.op === 'readonly').map((o: any) => o.path), READONLY_PATHS.map((p) => `/s${p}`));
  const i = (pred: (o: any) => boolean) => idx(ops, pred);
  assert.ok(i((o) => o.op === 'sysctl') < i((o) => o.op === 'readonly'), 'sysctls before /proc/sys is read-only');
  assert.ok(i((o) => o.op === 'mknod' && o.path === '/s/dev/null') < i((o) => o.op === 'mask'), '/dev/null made before it is bound');
});

test('the /proc view: one op after the pivot and the masks, before --read-only, each file with the fd the stage received; none without fds', () => {
  const files = [{ kind: 'meminfo', target: '/proc/meminfo' }, { kind: 'cpu-online', target: '/sys/devices/system/cpu/online' }];
  assert.is(idx(mountPlan({ ...cfg(), procView: { files } }), (o) => o.op === 'procview'), -1, 'not before the stage has the fds');
  for (const prepared of [undefined, '/prep']) {
    const ops = mountPlan({ ...cfg({ readOnly: true }), procView: { files, fds: [7, 8] } }, prepared);
    const at = idx(ops, (o) => o.op === 'procview');
    assert.equal(ops[at], { op: 'procview', files: [{ target: '/proc/meminfo', fd: 7 }, { target: '/sys/devices/system/cpu/online', fd: 8 }] });
    assert.ok(at > idx(ops, (o) => o.op === 'pivot'), 'resolved in the container\'s own /proc and /sys');
    assert.ok(prepared || at > Math.max(...ops.map((o, i) => (o.op === 'mask' || o.op === 'readonly' ? i : -1))), 'after the masks');
    assert.ok(at < idx(ops, (o) => o.op === 'remount-ro' && o.path === '/'), 'before --read-only');
  }
});
