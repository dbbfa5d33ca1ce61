// The OCI stage's pieces on the real kernel (each in a child process, test/fixtures/oci-stage-child.ts):
// the new libc wrappers; config.json's process extras ending in a real execve as a non-root
// user that keeps capabilities; docker's config.json mount plan carried out in a private mount
// namespace (binds, remounts, cgroup v1 layout, devices, sysctl, masks), nothing reaching the host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';

const CHILD = path.join(__dirname, '..', 'fixtures', 'oci-stage-child.ts');
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'oci');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-oci-stage-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// One bundled file, as the stage is: after pivot_root nothing of the host (tsx's lazily loaded
// parts, node_modules) can be required any more. NODE_PATH finds koffi's native module before.
const BUNDLE = path.join(tmp, 'oci-stage-child.js');
esbuild.buildSync({ entryPoints: [CHILD], bundle: true, platform: 'node', format: 'cjs', outfile: BUNDLE, logLevel: 'error' });
const TOP = path.join(__dirname, '..', '..');

function child(mode: string, arg = '') {
  const r = spawnSync(process.execPath, [BUNDLE, mode, arg], { encoding: 'utf8', timeout: 30000, env: { PATH: process.env.PATH, NODE_PATH: path.join(TOP, 'node_modules') } });
  assert.is(r.status, 0, `${mode}: ${r.stderr}`);
  return r.stdout;
}

test('libc: prlimit lowers and reads back, never raises a hard limit without CAP_SYS_RESOURCE; umask; capget/capset; setdomainname', () => {
  const r = JSON.parse(child('libc'));
  assert.is(r.soft, '64');
  assert.is(r.hard, r.before, 'the hard limit kept');
  assert.match(r.limits, /^Max open files\s+64\s+/);
  assert.is(r.umask, 0o027);
  assert.is(r.capEff, r.statusEff, 'capget reads what /proc/thread-self/status shows');
  assert.is(BigInt('0x' + r.after.eff) & 1n, 0n, 'CAP_CHOWN gone from effective');
  assert.is(BigInt('0x' + r.after.prm) & 1n, 0n, 'and from permitted');
  assert.is(r.after.inh, '0000000000000400', 'NET_BIND_SERVICE inheritable');
  assert.is(r.domainname, 'box-oci.test');
  const statusHost = fs.readFileSync('/proc/self/status', 'utf8').match(/^CapPrm:\s*(\S+)/m)![1];
  if ((BigInt('0x' + statusHost) >> 24n) & 1n) assert.is(r.raise, '', 'with CAP_SYS_RESOURCE raising is allowed');
  else assert.match(r.raise, /^prlimit RLIMIT_NOFILE: /);
});

test('process extras: uid 1000 keeps the permitted/effective/inheritable sets asked, ambient raised, bounding cut; rlimit, umask, oom_score_adj', () => {
  const caps = ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE', 'CAP_KILL'];
  const x = {
    rlimits: [{ type: 'RLIMIT_NOFILE', soft: 256, hard: 512 }], umask: 0o077, oomScoreAdj: 500, noNewKeyring: false,
    capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: ['CAP_NET_BIND_SERVICE'], ambient: ['CAP_NET_BIND_SERVICE'] },
  };
  const s = child('process', JSON.stringify(x));
  const field = (k: string) => s.match(new RegExp(`^${k}:\\s*(.+)$`, 'm'))![1].trim();
  assert.is(field('Uid').split(/\s+/)[0], '1000');
  const want = ((1n << 0n) | (1n << 10n) | (1n << 5n)).toString(16).padStart(16, '0');
  // after execve as non-root: permitted = inheritable ∩ file caps (none) ∪ ambient: only the ambient one remains
  assert.is(field('CapAmb'), '0000000000000400', s);
  assert.is(field('CapPrm'), '0000000000000400');
  assert.is(field('CapEff'), '0000000000000400');
  assert.is(field('CapInh'), '0000000000000400');
  assert.is(field('CapBnd'), want);
  assert.match(s, /^nofile 256$/m);
  assert.match(s, /^umask 0077$/m);
  assert.match(s, /^oom 500$/m);
});

test('docker\'s config.json carried out: binds with their flags, /dev, cgroup v1 layout, sysctl in the new net ns, masks; the host untouched', () => {
  const dir = path.join(tmp, 'bundle');
  fs.mkdirSync(path.join(dir, 'rootfs'), { recursive: true });
  for (const d of ['cg-memory', 'cg-cpu']) fs.mkdirSync(path.join(dir, d));
  fs.writeFileSync(path.join(dir, 'cg-memory', 'memory.limit_in_bytes'), '1\n');
  const config = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'docker-generated-config.json'), 'utf8'));
  for (const m of config.mounts) {
    if (m.type !== 'bind') continue;
    m.source = path.basename(m.source); // relative: resolved against the bundle
    fs.writeFileSync(path.join(dir, m.source), `${m.source} of the host\n`);
  }
  config.mounts.find((m: any) => m.destination === '/etc/hosts').options.push('ro', 'nosuid');
  // podman's --tmpfs: the image's /opt/app copied into the tmpfs over it
  fs.mkdirSync(path.join(dir, 'rootfs', 'opt', 'app', 'sub'), { recursive: true, mode: 0o750 });
  fs.chmodSync(path.join(dir, 'rootfs', 'opt', 'app'), 0o750);
  fs.writeFileSync(path.join(dir, 'rootfs', 'opt', 'app', 'sub', 'file.txt'), 'from the image\n');
  fs.symlinkSync('sub/file.txt', path.join(dir, 'rootfs', 'opt', 'app', 'link'));
  config.mounts.push({ destination: '/opt/app', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup'] });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const r = JSON.parse(child('mounts', dir));
  const mount = (at: string) => r.mountinfo.filter((m: any) => m.at === at).pop();
  assert.is(r.hosts, 'hosts of the host\n');
  assert.is(r.hostsWrite, 'EROFS', 'ro by the remount after the bind');
  assert.match(mount('/etc/hosts').options, /^ro,nosuid/);
  assert.match(mount('/etc/hostname').options, /^rw/);
  assert.equal([mount('/dev/shm').fstype, mount('/dev/shm').options.split(',').filter((o: string) => ['nosuid', 'nodev', 'noexec'].includes(o))], ['tmpfs', ['nosuid', 'nodev', 'noexec']]);
  assert.equal([mount('/sys/fs/cgroup').fstype, mount('/sys/fs/cgroup').options.split(',')[0]], ['tmpfs', 'ro']);
  assert.match(mount('/sys/fs/cgroup/memory').options, /^ro,nosuid,nodev,noexec/);
  assert.equal(r.cgroupMemory, ['memory.limit_in_bytes']);
  assert.is(r.cpu.link, 'cpu,cpuacct');
  assert.equal(r.null, { mode: '666', rdev: (1 << 8) | 3, chr: true });
  assert.is(r.ptmx.link, 'pts/ptmx');
  assert.is(r.fd.link, '/proc/self/fd');
  assert.is(r.sysctl, '0', 'net.ipv4.ip_unprivileged_port_start of the new network namespace');
  assert.is(r.keys.rdev, (1 << 8) | 3, '/proc/keys masked by /dev/null');
  assert.match(mount('/proc/sys').options, /^ro/);
  assert.match(mount('/sys').options, /^ro/);
  assert.is(mount('/opt/app').fstype, 'tmpfs');
  assert.equal(r.app, { file: 'from the image\n', link: 'sub/file.txt', mode: '750' });
  assert.is(r.appWrite, '', 'written into the tmpfs…');
  assert.not.ok(fs.existsSync(path.join(dir, 'rootfs', 'opt', 'app', 'new')), '…not into the image');
  // nothing of it in the host's mount namespace (the whole table is not compared: on a shared
  // host other work mounts and unmounts meanwhile)
  assert.not.ok(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(dir));
});

test.run();
