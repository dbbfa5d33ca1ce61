// box run basics with real containers: PID 1, hostname, network, env, user, fds, exit codes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { box, sh, stateEntries, boxCgroups, needs, boxAsync, until, childrenOf, stop, removeAll, BOX, ENV } from '../helpers/box';

test('the command is PID 1 and ps shows only the container', () => {
  assert.is(sh('echo $$').trim(), '1');
  const ps = sh('ps -o pid,comm; true').trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  assert.equal(ps.map((p) => p[0]), ['1', ps[1][0]]);
  assert.is(ps[0][1], 'sh');
});

test('hostname: short id by default, -h sets it, setting it inside leaves the host alone', () => {
  const host = os.hostname();
  assert.match(sh('hostname').trim(), /^[0-9a-f]{12}$/);
  assert.is(sh('hostname', ['-h', 'web1']).trim(), 'web1');
  // sethostname needs CAP_SYS_ADMIN, which Docker's default set does not have
  assert.match(box(['run', '--rm', 'busybox', 'hostname', 'x']).stderr, /Operation not permitted/);
  assert.is(sh('hostname changed && hostname', ['--cap-add', 'SYS_ADMIN']).trim(), 'changed');
  assert.is(os.hostname(), host);
  assert.is(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), host);
});

test('network: only loopback, and it is up', () => {
  const devs = sh('cat /proc/net/dev').split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(':')[0]);
  assert.equal(devs, ['lo']);
  assert.match(sh('ping -c 1 -W 2 127.0.0.1'), /1 packets received/);
});

test('ipc and uts namespaces differ from the host', () => {
  const out = sh('for n in ipc uts net mnt pid; do readlink /proc/self/ns/$n; done').trim().split('\n');
  for (const [i, ns] of ['ipc', 'uts', 'net', 'mnt', 'pid'].entries()) assert.is.not(out[i], fs.readlinkSync(`/proc/self/ns/${ns}`), ns);
});

needs(test, fs.existsSync('/proc/self/ns/cgroup'), 'this kernel has no cgroup namespace')('cgroup namespace: /proc/self/cgroup shows the root', () => {
  for (const line of sh('cat /proc/self/cgroup').trim().split('\n')) assert.ok(line.endsWith(':/'), line);
});

test('-e, --env-file, -w and Docker\'s default environment', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'box-env-'));
  fs.writeFileSync(path.join(dir, 'env'), '# comment\nFROM_FILE=yes\nBOTH=file\n');
  const out = sh('echo $FROM_FILE $BOTH $ONE $PATH $HOME $HOSTNAME; pwd', ['-e', 'ONE=1', '--env-file', path.join(dir, 'env'), '-e', 'BOTH=flag', '-w', '/srv/app', '-h', 'h1']);
  assert.is(out, 'yes flag 1 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /root h1\n/srv/app\n');
  fs.rmSync(dir, { recursive: true });
});

test('-u uid:gid and -u name: ids change and capabilities are gone', () => {
  assert.is(sh('id -u; id -g; grep CapEff /proc/self/status', ['-u', '1000:1001']), '1000\n1001\nCapEff:\t0000000000000000\n');
  assert.is(sh('id -un', ['-u', 'nobody']).trim(), 'nobody');
  const bad = box(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'true']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /unable to find user nosuchuser/);
});

test('no fd or working directory of box leaks into the container', async () => {
  // PID 1's open fds are exactly stdio; its cwd and root are the container's /
  const p = boxAsync(['run', '--rm', 'busybox', 'sh', '-c', 'echo ready; exec sleep 3600']); // ends when stopped below
  let out = '';
  p.stdout!.on('data', (d) => { out += d; });
  await until(() => out.includes('ready'), 60000, 'ready'); // generous: in a TCG guest (vm/qemu) a start takes seconds
  const [pid1] = childrenOf(p.pid!);
  assert.equal(fs.readdirSync(`/proc/${pid1}/fd`).sort(), ['0', '1', '2']);
  assert.is(fs.readlinkSync(`/proc/${pid1}/cwd`), fs.readlinkSync(`/proc/${pid1}/root`));
  await stop(p);
  assert.is(sh('pwd; cd /proc/1/cwd && pwd -P').trim(), '/\n/');
});

test('-i attaches stdin; without it the container reads /dev/null', () => {
  assert.is(box(['run', '--rm', '-i', 'busybox', 'cat'], { input: 'hello\n' }).stdout, 'hello\n');
  assert.is(box(['run', '--rm', 'busybox', 'cat'], { input: 'hello\n' }).stdout, '');
  assert.is(box(['run', '--rm', '-i', 'busybox', 'wc', '-c'], { input: 'x'.repeat(200000) }).stdout.trim(), '200000');
});

test('exit status: the command\'s own, 126, 127, and 128+N by signal', () => {
  assert.is(box(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']).status, 3);
  const nf = box(['run', '--rm', 'busybox', 'nosuchcmd']);
  assert.is(nf.status, 127);
  assert.match(nf.stderr, /exec: "nosuchcmd": executable file not found in \$PATH/);
  const nx = box(['run', '--rm', 'busybox', '/etc/passwd']);
  assert.is(nx.status, 126);
  assert.match(nx.stderr, /permission denied/);
  // a child that is not PID 1 can die by signal, and so does PID 1 under --init
  assert.is(box(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'kill -KILL $$']).status, 137);
  assert.is(box(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'kill -TERM $$']).status, 143);
});

// Files the checks before execve pass (they exist, have x bits) but the kernel will not run.
// Docker (docker/cli runStartContainerErr) maps "no such file or directory" to 127 and
// "permission denied" to 126; runc 1.1.5 reports these three from the container as
// "exec /x: no such file or directory", "exec /x: exec format error" and, for -u 1000,
// "exec /x: permission denied" (it exits 1 for the first two).
test('exit status: execve refused by the kernel → 126, a missing #! interpreter → 127, in run and exec', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'box-execve-'));
  const name = `execve-${process.pid}`;
  try {
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'no-interp'), '#!/nonexistent/sh\necho hi\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'root-only'), '#!/bin/sh\necho hi\n', { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'no-format'), 'garbage\0\0\0', { mode: 0o755 });
    const vol = ['-v', `${dir}:/t:ro`];
    const cases: [string[], string, number, RegExp][] = [
      [[], '/t/no-interp', 127, /exec \/t\/no-interp: no such file or directory\n$/],
      [['-u', '1000'], '/t/root-only', 126, /exec \/t\/root-only: permission denied\n$/],
      [[], '/t/no-format', 126, /exec \/t\/no-format: exec format error\n$/],
    ];
    for (const [flags, file, status, stderr] of cases) {
      const r = box(['run', '--rm', ...vol, ...flags, 'busybox', file]);
      assert.is(r.status, status, `run ${file}: ${r.stderr}`);
      assert.match(r.stderr, stderr);
    }
    assert.is(box(['run', '--rm', ...vol, 'busybox', '/t/root-only']).stdout, 'hi\n', 'root runs it');

    assert.is(box(['run', '-d', '--name', name, ...vol, 'busybox', 'sleep', '60']).status, 0);
    for (const [flags, file, status, stderr] of cases.slice(0, 2)) { // libuv runs an ENOEXEC file with /bin/sh, as execvp does
      const r = box(['exec', ...flags, name, file]);
      assert.is(r.status, status, `exec ${file}: ${r.stderr}`);
      assert.match(r.stderr, stderr);
    }
  } finally {
    box(['rm', '-f', name]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input: one line naming the problem, exit 125, host unchanged', () => {
  const before = { state: stateEntries().length, cg: boxCgroups().length };
  const cases: [string[], RegExp][] = [
    [['run', '--bogus', 'busybox'], /^box run: unknown flag: --bogus\n$/],
    [['run', '--rm', '-e'], /^box run: flag needs an argument: --env\n$/],
    [['run', '--rm', 'nosuchimage'], /^box run: unable to find image "nosuchimage".*\n$/],
    [['run', '--rm', 'myorg/nosuchapp'], /^box run: unable to find image "myorg\/nosuchapp": not in the store \(box images\), and no such path \(box pull myorg\/nosuchapp fetches it\)\n$/],
    [['run', '--rm', '/nonexistent/rootfs'], /^box run: image "\/nonexistent\/rootfs": no such file or directory\n$/],
    [['run', '--rm', '-v', 'rel/ative:/x', 'busybox'], /^box run: invalid volume "rel\/ative:\/x".*\n$/], // relative:/x is a named volume (Docker)
    [['run', '--rm', '--cap-add', 'NOPE', 'busybox'], /^box run: --cap-add\/--cap-drop: unknown capability: "NOPE"\n$/],
    [['run', '--rm', '-w', 'rel', 'busybox'], /^box run: --workdir "rel".*\n$/],
    [['run', '--rm', '--env-file', '/nonexistent', 'busybox'], /^box run: --env-file \/nonexistent: no such file\n$/],
  ];
  for (const [args, re] of cases) {
    const r = box(args);
    assert.is(r.status, 125, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
  // Docker's statuses for the CLI's own errors: 1 for an unknown verb or a missing argument, 125 for a bad flag
  const verb = box(['frobnicate']);
  assert.is(verb.status, 1);
  assert.match(verb.stderr, /^box: 'frobnicate' is not a box command\.\n/);
  const noImage = box(['run', '--rm']);
  assert.is(noImage.status, 1);
  assert.is(noImage.stderr, 'box run: requires at least 1 argument: IMAGE\n');
  assert.is(box(['ps', '--frob']).status, 125);
  for (const args of [['logs', 'nosuch'], ['exec', 'nosuch', 'true'], ['kill', '-s', 'NOSIG', 'nosuch'], ['rm', 'nosuch'], ['inspect', 'nosuch']]) {
    const r = box(args);
    assert.is(r.status, 1, args.join(' '));
    assert.is(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  }
  assert.equal({ state: stateEntries().length, cg: boxCgroups().length }, before);
});

// its code cache in a directory of this suite's (else box makes /tmp/box-65534), removed at the end
const nobodyCache = fs.mkdtempSync(path.join(os.tmpdir(), 'box-nobody-'));
fs.chownSync(nobodyCache, 65534, 65534);
test.after(() => fs.rmSync(nobodyCache, { recursive: true, force: true }));
const asNobody = (args: string[]) => spawnSync(BOX, args, { env: { ...ENV, BOX_CACHE_DIR: nobodyCache }, encoding: 'utf8', uid: 65534, gid: 65534 });
const nobody = asNobody(['version']);
needs(test, nobody.status === 0, `box cannot run as uid 65534 from ${BOX} (${nobody.stderr?.trim() || nobody.error}): a parent directory closed to other users`)('as another user than root: a permission error, not an empty store', () => {
  for (const [args, status] of [[['ps', '-a'], 1], [['logs', 'x'], 1], [['rm', 'x'], 1], [['run', 'busybox', 'true'], 125]] as [string[], number][]) {
    const r = asNobody(args);
    assert.is(r.status, status, args.join(' '));
    assert.is(r.stderr, `box ${args[0]}: permission denied: box manages containers as root (try sudo)\n`);
    assert.is(r.stdout, '');
  }
});

test('--name: a duplicate name is refused while the first exists', () => {
  const vol = path.join(os.tmpdir(), `box-dup-vol-${process.pid}`);
  try {
    const a = box(['run', '--name', 'dup-test', 'busybox', 'true']);
    assert.is(a.status, 0);
    const b = box(['run', '--rm', '--name', 'dup-test', '-v', `${vol}:/v`, 'busybox', 'true']);
    assert.is(b.status, 125);
    assert.match(b.stderr, /The container name "\/dup-test" is already in use/);
    assert.not.ok(fs.existsSync(vol), 'the refused run created its -v host directory');
    assert.match(box(['ps', '-a']).stdout, /dup-test/);
    assert.is(box(['rm', 'dup-test']).status, 0);
    assert.not.match(box(['ps', '-a']).stdout, /dup-test/);
  } finally {
    removeAll('dup-test');
    fs.rmSync(vol, { recursive: true, force: true });
  }
});

test.run();
