import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMountinfo } from '../../lib/cgroup/discover';
import { cgroupManager, parentName, parentDirs } from '../../lib/cgroup/manager';

// The parent is passed, not read from BOX_ROOT: these hold whatever the environment says.
const dirs = (id: string, l: ReturnType<typeof parseMountinfo>) => cgroupManager(id, l, 'box').dirs;

// Lines as real hosts print them in /proc/self/mountinfo.
const HYBRID_HERE = `25 24 0:22 / /sys/fs/cgroup rw,relatime shared:9 - tmpfs tmpfs rw,mode=755
26 25 0:23 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
27 25 0:24 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
28 25 0:25 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
29 25 0:26 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
30 25 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;

const CENTOS7 = `25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpuacct,cpu
29 25 0:26 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,net_prio,net_cls
30 25 0:27 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,pids`;

const V2 = `35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;

const INSIDE_CONTAINER = `40 30 0:30 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory`;

test('this machine: separate cpu and cpuacct plus cgroup2 → hybrid; name=systemd is a hierarchy of its own (the container gets a cgroup there too)', () => {
  const l = parseMountinfo(HYBRID_HERE);
  assert.is(l.mode, 'hybrid');
  assert.equal(l.v1.map((h) => [h.controllers.join(','), h.mountpoint]), [['cpu', '/sys/fs/cgroup/cpu'], ['cpuacct', '/sys/fs/cgroup/cpuacct'], ['memory', '/sys/fs/cgroup/memory'], ['name=systemd', '/sys/fs/cgroup/systemd']]);
  assert.is(l.v2!.mountpoint, '/sys/fs/cgroup/unified');
});

test('CentOS 7: co-mounted cpu,cpuacct matched as a set, no hard-coded path', () => {
  const l = parseMountinfo(CENTOS7);
  assert.is(l.mode, 'v1');
  const cpu = l.v1.find((h) => h.controllers.includes('cpu'))!;
  assert.equal(new Set(cpu.controllers), new Set(['cpu', 'cpuacct']));
  assert.is(cpu.mountpoint, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(dirs('id1', l), ['/sys/fs/cgroup/systemd/box/id1', '/sys/fs/cgroup/cpu,cpuacct/box/id1', '/sys/fs/cgroup/net_cls,net_prio/box/id1', '/sys/fs/cgroup/pids/box/id1']);
});

test('pure v2 and a bind of a sub-cgroup', () => {
  const l = parseMountinfo(V2);
  assert.is(l.mode, 'v2');
  assert.equal(dirs('id2', l), ['/sys/fs/cgroup/box/id2']);
  assert.is(parseMountinfo(INSIDE_CONTAINER).mode, 'none');
});

test('a named v1 hierarchy beside a cgroup2 that has the controllers: v2, the named one left out', () => {
  const l = parseMountinfo(`${V2}\n36 35 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd`);
  assert.is(l.mode, 'v2');
  assert.equal(l.v1, []);
  assert.is(parseMountinfo(`36 35 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd`).mode, 'none');
});

test('box\'s parent: "box" for the default store, one per BOX_ROOT otherwise', () => {
  assert.is(parentName(undefined), 'box');
  assert.match(parentName('/tmp/x'), /^box-[0-9a-f]{8}$/);
  assert.is.not(parentName('/tmp/x'), parentName('/tmp/y'));
  assert.equal(parentDirs(parseMountinfo(CENTOS7), 'box-1'), ['/sys/fs/cgroup/systemd/box-1', '/sys/fs/cgroup/cpu,cpuacct/box-1', '/sys/fs/cgroup/net_cls,net_prio/box-1', '/sys/fs/cgroup/pids/box-1']);
  assert.equal(parentDirs(parseMountinfo(V2), 'box-1'), ['/sys/fs/cgroup/box-1']);
});

test.run();
