// The text of /etc/hosts and /etc/resolv.conf, Docker's flag rules for --add-host, --dns*,
// --sysctl, --group-add and --tmpfs, and where the plan puts the binds and sysctls.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostsText, resolvConfText, hostResolvConf, hostnameText, DEFAULT_DNS } from '../../lib/container/etc-files';
import { parseExtraHost, sysctlAllowed, parseEtcOptions, checkEtcFields } from '../../lib/options/etc';
import { mountPlan, tmpfsMount, MountOp } from '../../lib/mount/plan';
import { parseRun } from '../../lib/options/run';
import { parseUser } from '../../lib/options/user';
import { MS } from '../../lib/libc/constants';
import { StageConfig, ContainerSpec } from '../../lib/options/types';
import { DEFAULT_CAPS } from '../../lib/options/capabilities';

const HOST = { ncpu: 2, memory: 4 << 30 } as any;

test('hosts: Docker\'s defaults, --add-host in order, the own line only with an address', () => {
  const base = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
  assert.is(hostsText('abc'), base);
  assert.is(hostsText('abc', [{ host: 'db', ip: '10.0.0.2' }, { host: 'v6', ip: '::2' }]), `${base}10.0.0.2\tdb\n::2\tv6\n`);
  assert.is(hostsText('abc', [], '172.17.0.2'), `${base}172.17.0.2\tabc\n`);
  assert.is(hostnameText('abc'), 'abc\n');
});

test('resolv.conf: loopback nameservers dropped, Google\'s when none is left, flags replace their kind', () => {
  const host = '# comment\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 10.1.1.1\nnameserver fe80::1%eth0\nsearch a.example b.example\noptions edns0 trust-ad\n';
  assert.is(resolvConfText(host), 'nameserver 10.1.1.1\nnameserver fe80::1\nsearch a.example b.example\noptions edns0 trust-ad\n');
  assert.is(resolvConfText('nameserver 127.0.0.1\nnameserver 0:0:0:0:0:0:0:1\n'), DEFAULT_DNS.map((s) => `nameserver ${s}\n`).join(''));
  assert.is(resolvConfText(''), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.is(resolvConfText(host, { dns: ['1.1.1.1'], dnsSearch: ['x.test'], dnsOptions: ['ndots:2'] }), 'nameserver 1.1.1.1\nsearch x.test\noptions ndots:2\n');
  assert.is(resolvConfText(host, { dnsSearch: ['.'] }), 'nameserver 10.1.1.1\nnameserver fe80::1\noptions edns0 trust-ad\n');
  assert.is(resolvConfText('domain d.example\nsearch s.example\nnameserver 9.9.9.9\n'), 'nameserver 9.9.9.9\nsearch s.example\n');
});

test('resolv.conf: systemd-resolved\'s stub host reads its real list instead', () => {
  const files: Record<string, string> = { '/etc/resolv.conf': 'nameserver 127.0.0.53\n', '/run/systemd/resolve/resolv.conf': 'nameserver 192.0.2.1\n' };
  assert.is(hostResolvConf((f) => files[f]), 'nameserver 192.0.2.1\n');
  assert.is(hostResolvConf((f) => (f === '/etc/resolv.conf' ? 'nameserver 127.0.0.53\n' : undefined)), 'nameserver 127.0.0.53\n');
  assert.is(hostResolvConf((f) => (f === '/etc/resolv.conf' ? 'nameserver 127.0.0.53\nnameserver 10.0.0.1\n' : 'nameserver 192.0.2.1\n')), 'nameserver 127.0.0.53\nnameserver 10.0.0.1\n');
});

test('--add-host: NAME:IP, NAME=IP, IPv6 with or without brackets; bad address, host-gateway refused', () => {
  assert.equal(parseExtraHost('db:10.0.0.2'), { host: 'db', ip: '10.0.0.2' });
  assert.equal(parseExtraHost('db=10.0.0.2'), { host: 'db', ip: '10.0.0.2' });
  assert.equal(parseExtraHost('v6:::1'), { host: 'v6', ip: '::1' });
  assert.equal(parseExtraHost('v6=[2001:db8::1]'), { host: 'v6', ip: '2001:db8::1' });
  assert.throws(() => parseExtraHost('db:10.0.0.256'), /invalid IP address in add-host: "10.0.0.256"/);
  assert.throws(() => parseExtraHost('db'), /bad format/);
  assert.throws(() => parseExtraHost('db:host-gateway'), /host-gateway/);
  assert.throws(() => parseExtraHost('a b:1.2.3.4'), /invalid hostname/);
});

test('--sysctl: only namespaced keys (Docker\'s list), KEY=VALUE', () => {
  for (const k of ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced', 'fs.mqueue.msg_max', 'net.ipv4.ip_forward', 'net.core.somaxconn']) assert.ok(sysctlAllowed(k), k);
  for (const k of ['kernel.hostname', 'kernel.domainname', 'vm.swappiness', 'kernel.shm', 'fs.file-max', 'net', 'net..x', 'net.ipv4/../../x', 'net.ipv4.../x', '']) assert.not.ok(sysctlAllowed(k), k);
  assert.not.ok(sysctlAllowed('net.ipv4.ip_forward', false), 'net.* needs the container\'s own network namespace');
  assert.equal(parseEtcOptions({ sysctl: ['net.ipv4.ping_group_range=1 2', 'kernel.shmmax=1'] }).sysctls, { 'net.ipv4.ping_group_range': '1 2', 'kernel.shmmax': '1' });
  assert.throws(() => parseRun(['--sysctl', 'kernel.hostname=x', 'busybox'], {}, HOST), /sysctl 'kernel.hostname' is not allowed/);
  assert.throws(() => parseRun(['--sysctl', 'net.ipv4.ip_forward', 'busybox'], {}, HOST), /KEY=VALUE/);
  try { parseRun(['--sysctl', 'vm.swappiness=1', 'busybox'], {}, HOST); assert.unreachable(); } catch (e: any) { assert.is(e.status, 125); assert.not.match(e.message, /\n/); }
});

test('--dns, --dns-search, --dns-option, --group-add: checked and carried in the spec; the supervisor\'s check agrees', () => {
  const r = parseRun(['--dns', '1.1.1.1', '--dns-search', 'x.test', '--dns-option', 'ndots:2', '--add-host', 'db:10.0.0.2', '--group-add', 'audio', '--group-add', '4242', '--sysctl', 'net.core.somaxconn=1024', 'busybox'], {}, HOST);
  assert.equal(r.spec.dns, ['1.1.1.1']);
  assert.equal(r.spec.dnsSearch, ['x.test']);
  assert.equal(r.spec.dnsOptions, ['ndots:2']);
  assert.equal(r.spec.extraHosts, [{ host: 'db', ip: '10.0.0.2' }]);
  assert.equal(r.spec.groupAdd, ['audio', '4242']);
  assert.ok(checkEtcFields(r.spec));
  assert.ok(checkEtcFields({}));
  assert.not.ok(checkEtcFields({ ...r.spec, sysctls: { 'kernel.hostname': 'x' } }));
  assert.not.ok(checkEtcFields({ ...r.spec, extraHosts: [{ host: 'db', ip: 'nope' }] }));
  assert.not.ok(checkEtcFields({ ...r.spec, dns: [1] }));
  assert.throws(() => parseRun(['--dns', 'nope', 'busybox'], {}, HOST), /IP address is not correctly formatted/);
  assert.throws(() => parseRun(['--group-add', 'a:b', 'busybox'], {}, HOST), /--group-add/);
});

test('--tmpfs: noexec,nosuid,nodev by default; exec/suid/dev and ro undo or add; the rest is tmpfs data', () => {
  assert.equal(tmpfsMount(''), { flags: MS.NOEXEC | MS.NOSUID | MS.NODEV, data: 'mode=1777' });
  assert.equal(tmpfsMount('exec,size=1m'), { flags: MS.NOSUID | MS.NODEV, data: 'size=1m,mode=1777' });
  assert.equal(tmpfsMount('ro,mode=700,suid,dev'), { flags: MS.NOEXEC | MS.RDONLY, data: 'mode=700' });
  assert.equal(tmpfsMount('noexec,exec,noexec'), { flags: MS.NOEXEC | MS.NOSUID | MS.NODEV, data: 'mode=1777' });
});

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  id: 'x', name: 'n', image: 'busybox', command: ['sh'], env: [], workdir: '/', user: { uid: 0, gid: 0, groups: [] },
  hostname: 'h', tty: false, stdin: false, rm: true, init: false, readOnly: false, noPivot: false, privileged: false,
  capabilities: DEFAULT_CAPS, seccomp: 'builtin', noNewPrivileges: false, volumes: [], tmpfs: [], resources: {}, stopSignal: 'SIGTERM', stopTimeout: 10, ...over,
});
const cfg = (over: Partial<ContainerSpec> = {}, etcDir: string | null = '/c'): StageConfig => ({
  spec: spec(over), cgroupProcs: [], cgroupns: true, etcDir: etcDir ?? undefined, rootfs: { lower: ['/img'], upper: '/c/upper', work: '/c/work', merged: '/c/merged' },
});

test('plan: the three files bound before volumes (a volume on the same path wins), read-only with --read-only; none for an old record', () => {
  const ops = mountPlan(cfg());
  const binds = ops.filter((o: any) => o.op === 'mount' && o.regular) as any[];
  assert.equal(binds.map((o) => [o.source, o.target, o.flags, o.mkdir]), [
    ['/c/hostname', '/c/merged/etc/hostname', MS.BIND, 'file'], ['/c/hosts', '/c/merged/etc/hosts', MS.BIND, 'file'], ['/c/resolv.conf', '/c/merged/etc/resolv.conf', MS.BIND, 'file'],
  ]);
  assert.ok(ops.indexOf(binds[2]) < ops.findIndex((o) => o.op === 'pivot'));
  assert.not.ok(ops.some((o) => o.op === 'remount-ro' && o.path.startsWith('/c/merged/etc/')));
  const withVolume = mountPlan(cfg({ volumes: [{ source: '/srv/hosts', target: '/etc/hosts', readonly: false }] }));
  assert.equal(withVolume.filter((o: any) => o.op === 'mount' && o.target === '/c/merged/etc/hosts').map((o: any) => o.source), ['/srv/hosts']);
  const ro = mountPlan(cfg({ readOnly: true }));
  assert.equal(ro.filter((o) => o.op === 'remount-ro').map((o: any) => o.path), ['/c/merged/etc/hostname', '/c/merged/etc/hosts', '/c/merged/etc/resolv.conf', '/']);
  assert.not.ok(mountPlan(cfg({}, null)).some((o: any) => o.regular));
});

test('plan: Docker\'s two sysctls (optional) and --sysctl after the pivot, before /proc/sys is read-only', () => {
  const ops = mountPlan(cfg({ sysctls: { 'net.ipv4.ping_group_range': '1 1', 'kernel.shmmax': '4096' } }));
  const pivot = ops.findIndex((o) => o.op === 'pivot');
  const ro = ops.findIndex((o) => o.op === 'readonly' && o.path === '/proc/sys');
  const s = ops.map((o, i) => [o, i] as [MountOp, number]).filter(([o]) => o.op === 'sysctl');
  assert.equal(s.map(([o]) => o), [
    { op: 'sysctl', key: 'net.ipv4.ip_unprivileged_port_start', value: '0', optional: true },
    { op: 'sysctl', key: 'net.ipv4.ping_group_range', value: '1 1' },
    { op: 'sysctl', key: 'kernel.shmmax', value: '4096' },
  ]);
  for (const [, i] of s) assert.ok(i > pivot && i < ro);
  assert.ok(mountPlan(cfg({ privileged: true })).some((o) => o.op === 'sysctl'), 'privileged too');
});

test('-u: the primary gid first, then groups listing the user, then --group-add; none from the file with USER:GROUP', () => {
  const db = { passwd: 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n', group: 'root:x:0:\nwheel:x:10:root,alice\naudio:x:29:alice\nalice:x:1000:\nstaff:x:50:\n' };
  assert.equal(parseUser('alice', db).groups, [1000, 10, 29]);
  assert.equal(parseUser('1000', db).groups, [1000, 10, 29]);
  assert.equal(parseUser(undefined, db).groups, [0, 10]);
  assert.equal(parseUser('alice:staff', db).groups, [50]);
  assert.equal(parseUser('2000', db).groups, [0]);
  assert.equal(parseUser('alice', db, 'run', ['staff', '4242', 'audio']).groups, [1000, 10, 29, 50, 4242]);
  assert.throws(() => parseUser('alice', db, 'run', ['nope']), /unable to find group nope/);
});

test.run();
