// What a container sees, as Docker makes it: /etc/hostname, /etc/hosts, /etc/resolv.conf bound
// from files in the container's directory (the image untouched, an image's symlinks unable to
// aim the binds elsewhere), Docker's sysctls in the container's own namespaces (the host's
// unchanged), --tmpfs's noexec,nosuid,nodev, -u's supplementary groups and --group-add (read
// inside the image's root), and single-file volumes. Each with and without a supervisor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { box, STATE, TOP } from '../helpers/box';
// etc-files imports lib/state/paths, whose store is fixed at its first import from BOX_ROOT: in
// a whole run every suite shares this process, and the library suites (33, 34) check that it is
// this run's store — so it is set first, as their helper does (test/helpers/library.ts)
const etcFiles = (): typeof import('../../lib/container/etc-files') => {
  process.env.BOX_ROOT = STATE;
  return require('../../lib/container/etc-files');
};
const hostResolv = () => etcFiles().resolvConfText(etcFiles().hostResolvConf());

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-etc-'));
const hostSysctl = (k: string) => fs.readFileSync(`/proc/sys/${k.replace(/\./g, '/')}`, 'utf8');
const HOST_SYSCTLS = ['net.ipv4.ip_unprivileged_port_start', 'net.ipv4.ping_group_range', 'kernel.shmmax', 'net.core.somaxconn'];
const hostBefore = Object.fromEntries(HOST_SYSCTLS.map((k) => [k, hostSysctl(k)]));

const DEFAULT_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

function run(args: string[], script: string, image = 'busybox') {
  return box(['run', '--rm', ...args, image, 'sh', '-c', script]);
}
function ok(args: string[], script: string, image = 'busybox'): string {
  const r = run(args, script, image);
  assert.is(r.status, 0, r.stderr);
  return r.stdout;
}

/** The builtin busybox unpacked into a directory (an image given by path), changed by `setup`. */
function rootfs(name: string, setup: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const r = spawnSync('sh', ['-ec', `tar -xzf ${TOP}/images/busybox.tar.gz -C ${dir}; cd ${dir}; ${setup}`], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return dir;
}

// Every case runs twice: a cold run, then with a supervisor alive (a `run -d` keeps one), so the
// pooled run's request check (lib/supervisor/run-request.ts) carries the new fields too.
for (const mode of ['cold', 'supervised'] as const) {
  const t = (name: string, fn: () => void) => test(`${mode}: ${name}`, fn);

  if (mode === 'supervised') {
    test('a detached container keeps a supervisor alive', () => {
      const r = box(['run', '-d', '--name', 'keeper17', 'busybox', 'sleep', '600']);
      assert.is(r.status, 0, r.stderr);
    });
  }

  t('/etc/hostname, /etc/hosts, /etc/resolv.conf by default: the short id, Docker\'s hosts, the host\'s resolvers filtered', () => {
    const out = ok([], 'cat /etc/hostname; echo --; cat /etc/hosts; echo --; cat /etc/resolv.conf; echo --; hostname; stat -c "%a %u %g" /etc/hostname /etc/hosts /etc/resolv.conf');
    const [hostname, hosts, resolv, rest] = out.split('--\n');
    assert.match(hostname, /^[0-9a-f]{12}\n$/);
    assert.is(hosts, DEFAULT_HOSTS); // no own-address line: loopback only, as Docker's --network none
    assert.is(resolv, hostResolv());
    assert.is(rest, `${hostname}644 0 0\n644 0 0\n644 0 0\n`);
  });

  t('-h, --add-host, --dns, --dns-search, --dns-option', () => {
    const out = ok(['-h', 'web1', '--add-host', 'db:10.0.0.2', '--add-host', 'v6=[2001:db8::7]', '--dns', '192.0.2.53', '--dns', '2001:db8::53', '--dns-search', 'x.test', '--dns-option', 'ndots:3', '--dns-option', 'edns0'],
      'cat /etc/hostname /etc/hosts /etc/resolv.conf');
    assert.is(out, `web1\n${DEFAULT_HOSTS}10.0.0.2\tdb\n2001:db8::7\tv6\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch x.test\noptions ndots:3 edns0\n`);
  });

  t('bad --add-host, --dns, --sysctl: one line naming it, exit 125', () => {
    for (const [args, word] of [[['--add-host', 'db:300.1.1.1'], '300.1.1.1'], [['--add-host', 'gw:host-gateway'], 'host-gateway'], [['--dns', 'resolver'], 'resolver'],
      [['--sysctl', 'kernel.hostname=evil'], 'kernel.hostname'], [['--sysctl', 'vm.swappiness=1'], 'vm.swappiness'], [['--group-add', 'nosuchgroup'], 'nosuchgroup']] as [string[], string][]) {
      const r = run(args, 'true');
      assert.is(r.status, 125, `${args}: ${r.stderr}`);
      assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(r.stderr.includes(word), r.stderr);
    }
    for (const k of HOST_SYSCTLS) assert.is(hostSysctl(k), hostBefore[k], k);
  });

  t('the files are the container\'s own, the image and the writable layer untouched; writable, read-only with --read-only', () => {
    const name = `etc17-${mode}`;
    const r = box(['run', '--name', name, '-h', 'one', '--add-host', 'db:10.0.0.2', '--sysctl', 'net.core.somaxconn=77', '--group-add', '50', '--dns-search', 'x.test',
      'busybox', 'sh', '-c', 'echo "10.1.1.1 mine" >> /etc/hosts && tail -1 /etc/hosts']);
    assert.is(r.stdout, '10.1.1.1 mine\n', r.stderr);
    const [info] = JSON.parse(box(['inspect', name]).stdout);
    const { ExtraHosts, Dns, DnsSearch, DnsOptions, Sysctls, GroupAdd } = info.HostConfig;
    assert.equal({ ExtraHosts, Dns, DnsSearch, DnsOptions, Sysctls, GroupAdd }, { ExtraHosts: ['db:10.0.0.2'], Dns: [], DnsSearch: ['x.test'], DnsOptions: [], Sysctls: { 'net.core.somaxconn': '77' }, GroupAdd: ['50'] });
    const id = info.Id;
    const dir = path.join(STATE, 'containers', id);
    for (const f of ['hostname', 'hosts', 'resolv.conf']) {
      const st = fs.lstatSync(path.join(dir, f));
      assert.ok(st.isFile(), f);
      assert.is(st.mode & 0o777, 0o644, f);
      assert.is(st.uid, 0, f);
      // the mount point: an empty file in the writable layer, never box's text
      const upper = path.join(dir, 'upper', 'etc', f);
      if (fs.existsSync(upper)) assert.is(fs.statSync(upper).size, 0, upper);
    }
    assert.is(fs.readFileSync(path.join(dir, 'hostname'), 'utf8'), 'one\n');
    assert.is(box(['rm', name]).status, 0);
    const ro = run(['--read-only'], 'cat /etc/hostname; echo x >> /etc/hosts && echo wrote');
    assert.is(ro.status, 1, ro.stderr);
    assert.match(ro.stdout, /^[0-9a-f]{12}\n$/);
    assert.match(ro.stderr, /Read-only file system/);
  });

  t('an image with /etc/hosts already there: covered, the image\'s file unchanged; a symlink to /run/… followed inside the root', () => {
    const img = rootfs(`ubuntu-like-${mode}`, 'printf "1.2.3.4 image\\n" > etc/hosts; mkdir -p run; rm -f etc/resolv.conf; ln -s /run/systemd/resolve/stub-resolv.conf etc/resolv.conf');
    const out = ok(['--add-host', 'db:10.0.0.2'], 'cat /etc/hosts; cat /etc/resolv.conf; readlink /etc/resolv.conf', img);
    assert.is(out, `${DEFAULT_HOSTS}10.0.0.2\tdb\n${hostResolv()}/run/systemd/resolve/stub-resolv.conf\n`);
    assert.is(fs.readFileSync(path.join(img, 'etc/hosts'), 'utf8'), '1.2.3.4 image\n');
    assert.ok(!fs.existsSync(path.join(img, 'run/systemd')), 'the image directory itself is never written');
  });

  t('a hostile image\'s symlinks cannot aim the binds out of its root or onto its /proc or /sys', () => {
    const marker = path.join(tmp, `host-file-${mode}`);
    fs.writeFileSync(marker, 'host\n');
    const depth = '../'.repeat(20);
    // .. and absolute links: resolved inside the root, so the bind lands in the container's own tree
    const img = rootfs(`escape-${mode}`, `ln -sf ${depth}${marker.slice(1)} etc/hosts; ln -sf ${marker} etc/hostname; mkdir -p ${path.dirname(marker).slice(1)}`);
    const out = ok(['-h', 'inside'], `head -1 /etc/hosts; head -1 /etc/hostname; head -1 ${marker}`, img);
    assert.is(out, '127.0.0.1\tlocalhost\n'.repeat(3)); // both links lead to the same file inside the root: the last bind (hosts) is on top
    assert.is(fs.readFileSync(marker, 'utf8'), 'host\n');
    for (const [link, why] of [['/proc/sys/kernel/hostname', '/proc'], ['/sys/kernel/profiling', '/sys'], ['../../..', 'regular'], ['/dev/null', 'regular'], ['/proc/self/root/etc/hosts', 'ELOOP|resolve']]) {
      const bad = rootfs(`bad-${mode}-${link.replace(/\W/g, '_')}`, `ln -sf ${link} etc/hosts`);
      const r = run([], 'cat /proc/sys/kernel/hostname', bad);
      assert.is(r.status, 125, `${link}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(why), `${link}: ${r.stderr}`);
    }
    assert.is(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8'), os.hostname() + '\n');
  });

  t('Docker\'s sysctls in the container\'s network namespace, --sysctl for namespaced keys; the host\'s unchanged', () => {
    assert.is(ok([], 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range'), '0\n0\t2147483647\n');
    const out = ok(['--sysctl', 'net.ipv4.ip_unprivileged_port_start=1000', '--sysctl', 'kernel.shmmax=4096', '--sysctl', 'net.core.somaxconn=77'],
      'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmax /proc/sys/net/core/somaxconn; echo 5 > /proc/sys/net/core/somaxconn || echo ro');
    assert.is(out, '1000\n4096\n77\nro\n');
    // a non-root user binds a port below 1024 (busybox nc listens, then is killed)
    assert.is(ok(['-u', '65534'], 'nc -l -p 80 & sleep 0.3; netstat -ltn | grep -c ":80 "; kill $!'), '1\n');
    for (const k of HOST_SYSCTLS) assert.is(hostSysctl(k), hostBefore[k], k);
  });

  t('--tmpfs: noexec,nosuid,nodev by default, exec when asked', () => {
    const out = ok(['--tmpfs', '/t', '--tmpfs', '/x:exec,size=64m'], 'grep " /t \\| /x " /proc/mounts; mkdir /t/b /x/b; cp /bin/busybox /t/b/; cp /bin/busybox /x/b/; /x/b/busybox true && echo x-runs; /t/b/busybox true 2>/dev/null || echo t-refuses');
    const mounts = out.split('\n').filter((l) => l.startsWith('tmpfs'));
    const opts = (p: string) => mounts.find((l) => l.split(' ')[1] === p)!.split(' ')[3].split(',');
    for (const o of ['nosuid', 'nodev', 'noexec']) assert.ok(opts('/t').includes(o), `/t ${o}: ${mounts}`);
    assert.ok(!opts('/x').includes('noexec') && opts('/x').includes('nosuid'), String(mounts));
    assert.match(out, /x-runs\nt-refuses\n$/);
  });

  t('-u: the groups the image\'s /etc/group lists for the user, --group-add; a planted /etc/group symlink reads nothing of the host', () => {
    const img = rootfs(`users-${mode}`, `echo "alice:x:1000:1000::/home/alice:/bin/sh" >> etc/passwd
      printf "alice:x:1000:\\naudio:x:29:bob,alice\\nvideo:x:44:bob\\n" >> etc/group; sed -i "s/^wheel:x:10:.*/wheel:x:10:root,alice/" etc/group`);
    // the kernel's list (sorted), not id's: id prints the primary gid whether or not it is among the groups
    const G = 'set -- $(sed -n "s/^Groups://p" /proc/self/status); echo "$@"';
    assert.is(ok(['-u', 'alice'], G, img), '10 29 1000\n');
    assert.is(ok(['-u', '1000'], G, img), '10 29 1000\n');
    assert.is(ok([], G, img), '0 10\n');
    // root's groups are set before its capabilities go (exit 139 before, with root listed in a group)
    assert.is(ok(['--cap-drop', 'ALL'], G, img), '0 10\n');
    assert.is(ok(['--cap-drop', 'SETGID', '--cap-drop', 'SETUID'], G, img), '0 10\n');
    assert.is(ok(['-u', 'alice:video'], G, img), '44\n');
    assert.is(ok(['-u', 'alice', '--group-add', 'video', '--group-add', '4242'], G, img), '10 29 44 1000 4242\n');
    assert.is(ok(['-u', 'nobody'], G), '65534\n');
    assert.is(ok(['-u', '4000:4000'], G), '4000\n');
    const hostGroup = path.join(tmp, `group-${mode}`);
    fs.writeFileSync(hostGroup, 'evil:x:777:alice\n');
    const evil = rootfs(`evil-group-${mode}`, `echo "alice:x:1000:1000::/:/bin/sh" >> etc/passwd; ln -sf ${'../'.repeat(20)}${hostGroup.slice(1)} etc/group`);
    assert.is(ok(['-u', 'alice'], G, evil), '1000\n');
    assert.is(run(['-u', 'alice', '--group-add', 'evil'], 'true', evil).status, 125);
  });

  t('single-file volumes: onto a file the image has, and onto a path it has not (an empty file is made)', () => {
    const file = path.join(tmp, `vol-${mode}`);
    fs.writeFileSync(file, 'from the host\n');
    assert.is(ok(['-v', `${file}:/etc/hostname:ro`, '-v', `${file}:/etc/passwd:ro`, '-v', `${file}:/new/dir/file`], 'cat /etc/hostname /etc/passwd /new/dir/file; echo x > /etc/hostname || echo ro'),
      'from the host\nfrom the host\nfrom the host\nro\n');
    assert.is(fs.readFileSync(file, 'utf8'), 'from the host\n');
  });

  if (mode === 'supervised') {
    test('the detached container goes', () => {
      assert.is(box(['rm', '-f', 'keeper17']).status, 0);
    });
  }
}

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
