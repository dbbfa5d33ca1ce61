// config.json → what box's stage carries out (lib/oci/config.ts, resources.ts), on the configs
// podman and dockerd really sent (test/fixtures/oci/) and on small edits of them: every field
// honoured or refused by name. Also which command lines select OCI mode (lib/oci/cli.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { translate } from '../../lib/oci/config';
import { ociResources, allowList } from '../../lib/oci/resources';
import { isOciInvocation } from '../../lib/oci/cli';
import { CLONE } from '../../lib/libc/constants';
import { DEFAULT_DEVICE_RULES } from '../../lib/cgroup/files';
import { resolveProfile } from '../../lib/seccomp/profile';

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'oci', name), 'utf8'));
const ROOTFS = fs.mkdtempSync(path.join(os.tmpdir(), 'box-oci-unit-'));
const withRoot = (c: any) => ({ ...c, root: { ...c.root, path: ROOTFS } });
const PODMAN = withRoot(fixture('podman-generated-config.json'));
const DOCKER = withRoot(fixture('docker-generated-config.json'));
const edit = (c: any, f: (c: any) => void) => { const x = structuredClone(c); f(x); return x; };
const refused = (c: any, msg: RegExp) => assert.throws(() => translate(c, '/b', 'id1'), (e: any) => msg.test(e.message) || assert.unreachable(e.message));

test('podman\'s config: namespaces, process, pids limit, cgroup path, seccomp compiled with its refusals', () => {
  const b = translate(PODMAN, '/b', 'id1');
  assert.is(b.unshare, CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET);
  assert.ok(b.newPidNs);
  assert.not.ok(b.newCgroupNs);
  assert.equal(b.spec.command, ['/bin/true']);
  assert.is(b.spec.workdir, '/');
  assert.is(b.process.umask, 0o22);
  assert.equal(b.process.rlimits.map((r) => r.type), ['RLIMIT_NOFILE', 'RLIMIT_NPROC']);
  assert.is(b.resources.pidsLimit, 2048);
  assert.is(b.cgroupPath, PODMAN.linux.cgroupsPath);
  // podman sends only "deny all": runc's defaults are what its containers rely on
  for (const r of DEFAULT_DEVICE_RULES) assert.ok(b.resources.devices!.includes(r), r);
  assert.ok(b.seccomp && b.seccomp.program.length > 100);
});

test('docker\'s config: the prestart hook, the sysctls\' namespace, device rules with the fuse deny', () => {
  const b = translate(DOCKER, '/b', 'id1');
  assert.is(b.hooks.prestart.length, 1);
  assert.is(b.hooks.prestart[0].args![0], 'libnetwork-setkey');
  assert.is(b.cgroupPath, DOCKER.linux.cgroupsPath);
  assert.equal(b.process.capabilities.bounding.length, 14);
  assert.ok(b.resources.devices!.includes('c 1:3 rwm'));
  assert.not.ok(b.resources.devices!.some((r) => r.startsWith('c 10:229')), 'fuse stays denied');
  assert.is(b.spec.hostname, DOCKER.hostname);
});

test('the engines\' profile: a refusal after an allow-all group refuses (podman: setns without CAP_SYS_ADMIN)', () => {
  const p = PODMAN.linux.seccomp;
  assert.throws(() => resolveProfile(p, { caps: [], kernel: '6.1.0' }), /different actions/);
  const r = resolveProfile(p, { caps: [], kernel: '6.1.0', denyWins: true });
  const x64 = r.arches.find((a) => a.arch === 'SCMP_ARCH_X86_64')!;
  const SETNS = 308, READ = 0;
  assert.is.not(x64.calls.get(SETNS)![0].action, 0x7fff0000, 'setns refused');
  assert.is(x64.calls.get(READ)![0].action, 0x7fff0000, 'the rest of the allow group is untouched');
});

test('refusals name the field', () => {
  refused(edit(PODMAN, (c) => c.linux.namespaces.push({ type: 'user' })), /linux\.namespaces\[5\]: user namespaces are not supported/);
  refused(edit(PODMAN, (c) => { c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'mount'); }), /a new mount namespace is required/);
  refused(edit(PODMAN, (c) => { c.linux.cgroupsPath = 'machine.slice:libpod:x'; }), /cgroupsPath: .*systemd/);
  refused(edit(PODMAN, (c) => { c.linux.cgroupsPath = '/a/../../b'; }), /must not contain/);
  refused(edit(PODMAN, (c) => { c.process.cwd = 'rel'; }), /process\.cwd: must be an absolute path/);
  refused(edit(PODMAN, (c) => { c.process.rlimits[0].soft = 30000; }), /process\.rlimits\[0\]: soft 30000 is above hard 20000/);
  refused(edit(PODMAN, (c) => { c.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: 1 }]; }), /hugepageLimits is not supported/);
  refused(edit(PODMAN, (c) => { c.linux.seccomp.syscalls.push({ names: ['read'], action: 'SCMP_ACT_NOTIFY' }); }), /linux\.seccomp: SCMP_ACT_NOTIFY/);
  refused(edit(PODMAN, (c) => { c.hooks = { poststart: [{ path: 'rel' }] }; }), /hooks\.poststart\[0\]\.path/);
  refused(edit(PODMAN, (c) => { c.ociVersion = '2.0.0'; }), /ociVersion/);
  refused(edit(DOCKER, (c) => { c.hooks.startContainer = [{ path: '/bin/true' }]; c.process.capabilities.bounding.push('CAP_SYS_PTRACE'); }), /hooks\.startContainer: not with CAP_SYS_PTRACE/);
  refused(edit(PODMAN, (c) => { c.linux.namespaces[0].path = '/proc/1/ns/pid'; c.linux.namespaces.push({ type: 'pid' }); }), /listed twice/);
});

test('namespaces joined by path; pid joined by box; a relative cgroupsPath under box-oci', () => {
  const b = translate(edit(PODMAN, (c) => {
    c.linux.namespaces = [{ type: 'mount' }, { type: 'network', path: '/run/netns/x' }, { type: 'pid', path: '/proc/9/ns/pid' }, { type: 'cgroup' }];
    c.linux.cgroupsPath = 'pods/p1';
    delete c.hostname; // a hostname needs a uts namespace of its own
  }), '/b', 'id1');
  assert.is(b.unshare, CLONE.NEWNS);
  assert.equal(b.join, [{ type: 'network', path: '/run/netns/x' }]);
  assert.is(b.pidNsPath, '/proc/9/ns/pid');
  assert.not.ok(b.newPidNs);
  assert.ok(b.newCgroupNs);
  assert.is(b.cgroupPath, '/box-oci/pods/p1');
});

test('LinuxResources → limits (update uses the same), refusing what box cannot apply', () => {
  assert.equal(ociResources({ memory: { limit: 1 << 26, swap: 1 << 27, reservation: 1 << 25 }, cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' }, pids: { limit: 10 } }), {
    memory: 1 << 26, memorySwap: 1 << 27, memoryReservation: 1 << 25, cpuShares: 512, cpuQuota: 50000, cpuPeriod: 100000, cpusetCpus: '0', cpusetMems: '0', pidsLimit: 10,
  });
  // docker update sends zeros for what it does not change
  assert.equal(ociResources({ memory: { limit: 0 }, cpu: { shares: 0 }, blockIO: { weight: 0 }, pids: { limit: 0 } }), {});
  assert.throws(() => ociResources({ memory: { limit: 'x' } }), /memory\.limit: not a number/);
  assert.throws(() => ociResources({ cpu: { realtimeRuntime: 5 } }), /realtimeRuntime/);
  assert.throws(() => ociResources({ blockIO: { weight: 300 } }), /blockIO is not supported/);
});

test('device rules: deny all + allows → an allow-list; denies of nothing allowed change nothing; a narrowing deny is refused', () => {
  assert.equal(allowList([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }]), ['c 1:3 rwm']);
  assert.equal(allowList([{ allow: true, access: 'rwm' }]), undefined, 'allow all: no rules');
  assert.equal(allowList([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }]), []);
  assert.throws(() => allowList([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }]), /devices\[2\]: a deny that narrows/);
  assert.throws(() => allowList([{ allow: true, type: 'x', access: 'rwm' }]), /devices\[0\]\.type/);
});

test('which command lines are OCI mode', () => {
  assert.ok(isOciInvocation(['--root', '/run/x', 'create'], '/usr/local/bin/box'));
  assert.ok(isOciInvocation(['--root=/run/x', 'state', 'a'], '/usr/local/bin/box'));
  assert.ok(isOciInvocation(['--log-format=json', '--log', 'f', 'create'], '/usr/local/bin/box'));
  assert.ok(isOciInvocation(['start', 'a'], '/usr/local/bin/box-runc'));
  assert.not.ok(isOciInvocation(['start', 'a'], '/usr/local/bin/box'));
  assert.not.ok(isOciInvocation(['--version'], '/usr/local/bin/box'));
  assert.not.ok(isOciInvocation(['--help'], '/usr/local/bin/box'));
});

test.after(() => fs.rmSync(ROOTFS, { recursive: true, force: true }));

test.run();
