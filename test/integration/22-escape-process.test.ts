// Escape suite, box's own processes (issue 10): a hostile root inside a container attacks
// what box runs, reads and opens on its behalf. Each test attacks from inside a real
// container and checks the host afterwards, beside a control that shows the probe does
// detect the weakness (the attack run from the host, or on a process without box's care).
// The static probe is test/fixtures/escape-probe.c, built here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync, spawn } from 'node:child_process';
import { box, boxLater, until, needs, STATE, TOP, BOX, ENV, CC } from '../helpers/box';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-escape-'));
fs.chmodSync(tmp, 0o755);
const probeDir = path.join(tmp, 'probe');
fs.mkdirSync(probeDir);
const PROBE = path.join(probeDir, 'escape-probe');
const cc = spawnSync(CC, ['-static', '-O', '-o', PROBE, path.join(TOP, 'test/fixtures/escape-probe.c')], { encoding: 'utf8' });
const withProbe = needs(test, cc.status === 0, `cannot build the static escape probe: ${cc.stderr || cc.error}`);
const PROBE_VOL = ['-v', `${probeDir}:/probe:ro`];
const DEFAULT_CAPS = '00000000a80425fb';
const UNCONFINED = ['--security-opt', 'seccomp=unconfined'];

const inspect = (ref: string) => JSON.parse(box(['inspect', ref]).stdout)[0];
function detached(args: string[]): string {
  const r = box(['run', '-d', ...args]);
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
}
const record = (id: string) => JSON.parse(fs.readFileSync(path.join(STATE, 'containers', id, 'state.json'), 'utf8'));
const cleanup = (...names: string[]) => { for (const n of names) box(['rm', '-f', n]); };

// A watcher (plain sh, busybox's or the host's) that reports any process with a thread in
// another mount or network namespace than the watcher's (NS: Node's threads keep the host's
// when only the main thread calls setns), or with the caller's environment (ENV: a marker
// variable set only in box's own environment). A box process may be visible — the command
// exec spawns is one until it execs — but never with host state.
const WATCH = `end=$(( $(date +%s) + $1 )); mm=$(readlink /proc/self/ns/mnt); mn=$(readlink /proc/self/ns/net)
while [ ! -e /ctl/stop-watching ] && [ $(date +%s) -lt $end ]; do for d in /proc/[0-9]*; do
  grep -qa BOX_ESCAPE_MARKER $d/environ 2>/dev/null && echo "ENV \${d#/proc/}"
  for t in $d/task/*; do
    m=$(readlink $t/ns/mnt 2>/dev/null) && [ -n "$m" ] && [ "$m" != "$mm" ] && echo "NS \${t#/proc/} $m"
    n=$(readlink $t/ns/net 2>/dev/null) && [ -n "$n" ] && [ "$n" != "$mn" ] && echo "NS \${t#/proc/} $n"
  done
done; done; echo watched`;

test('exec: no process a container can see holds host namespaces or the caller\'s environment, even to a SYS_PTRACE root (control: the watcher catches both)', async () => {
  const marker = { BOX_ESCAPE_MARKER: 'caller-secret' };
  // control: in a small pid namespace of its own, the same watcher catches a Node process
  // with the marker in its environment, and one in another mount and network namespace
  const control = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c',
    `env BOX_ESCAPE_MARKER=1 ${process.execPath} -e "setTimeout(() => {}, 5000)" & unshare -m -n sleep 5 & sleep 0.3; sh -c '${WATCH.replace(/'/g, "'\\''")}' sh 1; wait`], { encoding: 'utf8', timeout: 20000 });
  for (const re of [/^ENV \d+/m, /^NS \d+\/task\/\d+ mnt:/m, /^NS \d+\/task\/\d+ net:/m]) assert.match(control.stdout, re, `control: ${control.stdout} ${control.stderr}`);

  // the attack: the watcher inside a container with SYS_PTRACE, while box exec runs again and again
  const ctl = path.join(tmp, 'ctl'); // stopped from the host: an exec that stopped it would die with the pid namespace
  fs.mkdirSync(ctl);
  const watcher = box(['run', '-d', '--name', 'esc-watch', '--cap-add', 'SYS_PTRACE', '-v', `${ctl}:/ctl:ro`, 'busybox', 'sh', '-c', WATCH, 'sh', '120'], { env: marker });
  assert.is(watcher.status, 0, watcher.stderr);
  try {
    for (let i = 0; i < 8; i++) {
      const r = box(['exec', 'esc-watch', 'true'], { env: marker });
      assert.is(r.status, 0, `exec ${i}: ${r.stderr} (the watcher: ${JSON.stringify(inspect('esc-watch').State)}, ${box(['logs', 'esc-watch']).stdout.slice(-300)})`);
    }
    fs.writeFileSync(path.join(ctl, 'stop-watching'), '');
    await until(() => !inspect('esc-watch').State.Running, 60000, 'the watcher to finish');
    const seen = box(['logs', 'esc-watch']).stdout;
    assert.match(seen, /watched/);
    assert.not.match(seen, /ENV|NS/, seen);
    assert.ok(seen.length < 1000, seen);
  } finally {
    cleanup('esc-watch');
  }
});

withProbe('CVE-2019-5736: a "#!/proc/self/exe" command gets only an unwritable node, also after every box process has exited (control: the same attack on the host rewrites it)', async () => {
  // Each run uses its own copy of node as box's runtime, so that once its processes are gone
  // nothing else executes that file and a writable handle on it would really be writable.
  const copy = (name: string) => { const p = path.join(tmp, name); fs.copyFileSync(process.execPath, p); fs.chmodSync(p, 0o755); return p; };
  const x = path.join(tmp, 'x');
  fs.mkdirSync(x);
  fs.copyFileSync(PROBE, path.join(x, 'escape-probe'));
  fs.chmodSync(path.join(x, 'escape-probe'), 0o755);
  const evil = (dir: string) => `#!/proc/self/exe
const fs = require('fs');
const fd = fs.openSync('/proc/self/exe', 0o10000000 /* O_PATH */);
const r = require('child_process').spawnSync('${dir}/escape-probe', ['send', '${dir}/sock'], { stdio: ['inherit', 'inherit', 'inherit', fd] });
process.exit(r.status);
`;
  // control, all on the host: node runs the script, hands its own exe to the receiver, exits
  fs.writeFileSync(path.join(x, 'evil-host'), evil(x), { mode: 0o755 });
  const nodeC = copy('node-control');
  const recvHost = spawnSync('sh', ['-c', `${x}/escape-probe recv ${x}/sock & sleep 0.2; ${nodeC} ${x}/evil-host; wait`], { encoding: 'utf8', timeout: 60000 });
  assert.match(recvHost.stdout, /^WRITABLE$/m, `control: ${recvHost.stdout} ${recvHost.stderr}`);

  // the attack: the container's command is the script, so the stage's execve runs /proc/self/exe
  fs.writeFileSync(path.join(x, 'evil'), evil('/x'), { mode: 0o755 });
  const rootfs = path.join(tmp, 'node-rootfs'); // node's libraries come read-only from the host's /usr
  for (const d of ['proc', 'dev', 'sys', 'tmp', 'x', 'usr']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  for (const [l, t] of [['lib', 'usr/lib'], ['lib64', 'usr/lib64'], ['bin', 'usr/bin']]) fs.symlinkSync(t, path.join(rootfs, l));
  // EROFS: the read-only clone (kernel 5.12+); EPERM: the sealed memfd copy of older kernels.
  // Never WRITABLE, and not still ETXTBSY: the probe must reach the moment nothing executes the file.
  for (const [kernel, env, want] of [['new kernel', {}, 'EROFS'], ['old kernel (sealed memfd)', { BOX_OLD_KERNEL: '1' }, 'EPERM']] as const) {
    fs.rmSync(path.join(x, 'sock'), { force: true });
    const receiver = boxLater(['run', '--rm', '-v', `${x}:/x`, 'busybox', '/x/escape-probe', 'recv', '/x/sock']);
    await until(() => fs.existsSync(path.join(x, 'sock')), 60000, `${kernel}: the receiver to listen`); // however long its start takes
    const nodeA = copy(`node-attack-${want}`);
    const a = spawnSync(nodeA, ['--', BOX, 'run', '--rm', '-v', '/usr:/usr:ro', '-v', `${x}:/x`, rootfs, '/x/evil'], { encoding: 'utf8', env: { ...ENV, ...env }, timeout: 60000 });
    assert.is(a.status, 0, `${kernel}: the attacking container: ${a.stderr}`);
    const r = await receiver;
    assert.is(r.stdout.trim(), want, `${kernel}: ${r.stdout} ${r.stderr}`);
  }
});

test('exec joins the namespaces recorded at start, and reads cap_last_cap on the host (control: PID 1\'s new mount namespace does lie)', async () => {
  // Unconfined: the default seccomp filter refuses the user namespace this attack starts
  // with; exec must join the recorded namespaces wherever a container can make new ones.
  const id = detached(['--name', 'esc-caplast', ...UNCONFINED, 'busybox', 'sh', '-c',
    'echo 5 > /tmp/fake; exec unshare -U -m -r sh -c "mount --bind /tmp/fake /proc/sys/kernel/cap_last_cap && exec sleep 3600"']);
  try {
    const pid = inspect(id).State.Pid;
    await until(() => fs.readlinkSync(`/proc/${pid}/ns/mnt`) !== `mnt:[${record(id).namespaces.mnt}]`, 30000, 'PID 1 to make its namespaces');
    // control: in PID 1's own (new) mount namespace, cap_last_cap says 5
    const spoofed = spawnSync('nsenter', ['-t', String(pid), '-m', 'cat', '/proc/sys/kernel/cap_last_cap'], { encoding: 'utf8' });
    assert.is(spoofed.stdout.trim(), '5', spoofed.stderr);
    const r = box(['exec', 'esc-caplast', 'sh', '-c', 'grep CapEff /proc/self/status; cat /proc/sys/kernel/cap_last_cap; readlink /proc/self/ns/mnt']);
    assert.is(r.status, 0, r.stderr);
    const [capEff, last, mnt] = r.stdout.trim().split('\n');
    assert.is(capEff, `CapEff:\t${DEFAULT_CAPS}`);
    assert.is(last, fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    assert.is(mnt, `mnt:[${record(id).namespaces.mnt}]`);
  } finally {
    cleanup('esc-caplast');
  }
});

test('exec -t opens the pty inside the container: a /dev/pts/ptmx symlink to a host path or a fake device is refused (control: a host-side open follows it out)', async () => {
  const hostFile = path.join(tmp, 'host-ptmx');
  fs.writeFileSync(hostFile, 'host file\n');
  detached(['--name', 'esc-pty', '--cap-add', 'SYS_ADMIN', 'busybox', 'sh', '-c',
    `umount /dev/pts && ln -s ${hostFile} /dev/pts/ptmx && touch /tmp/ready && exec sleep 3600`]);
  try {
    const pid = inspect('esc-pty').State.Pid;
    await until(() => box(['exec', 'esc-pty', 'ls', '/tmp/ready']).status === 0, 30000, 'the container to plant its symlink');
    // control: resolving the container's /dev/ptmx from the host lands on the host's file
    const fd = fs.openSync(`/proc/${pid}/root/dev/ptmx`, 'r');
    assert.is(fs.fstatSync(fd).ino, fs.statSync(hostFile).ino);
    fs.closeSync(fd);
    const r = box(['exec', '-t', 'esc-pty', 'true']);
    assert.is(r.status, 125);
    assert.match(r.stderr, /\/dev\/pts\/ptmx is not the container's pty multiplexer \(a symlink\)/);
    // a device node that is not a devpts ptmx (here /dev/null's numbers) is refused as well
    assert.is(box(['exec', 'esc-pty', 'sh', '-c', 'rm /dev/pts/ptmx && mknod /dev/pts/ptmx c 1 3']).status, 0);
    const fake = box(['exec', '-t', 'esc-pty', 'true']);
    assert.is(fake.status, 125);
    assert.match(fake.stderr, /\/dev\/pts\/ptmx is not the container's pty multiplexer/);
    assert.is(fs.readFileSync(hostFile, 'utf8'), 'host file\n');
  } finally {
    cleanup('esc-pty');
  }
});

test('exec -u NAME reads the container\'s own passwd: a symlink to a host file is not followed out, a FIFO does not hang box (controls: host-side joins do both)', async () => {
  const hostPasswd = path.join(tmp, 'host-passwd');
  fs.writeFileSync(hostPasswd, 'hostonly:x:4242:4242::/:/bin/sh\n');
  detached(['--name', 'esc-user', 'busybox', 'sh', '-c', `rm /etc/passwd && ln -s ${hostPasswd} /etc/passwd && rm /etc/group && mkfifo /etc/group && touch /tmp/ready && exec sleep 3600`]);
  try {
    const pid = inspect('esc-user').State.Pid;
    await until(() => box(['exec', 'esc-user', 'ls', '/tmp/ready']).status === 0, 30000, 'the container to plant its files');
    // controls: a host-side path join reads the host's file, and a plain read of the FIFO blocks
    assert.match(fs.readFileSync(path.join(`/proc/${pid}/root`, 'etc', 'passwd'), 'utf8'), /hostonly/);
    assert.is(spawnSync('cat', [`/proc/${pid}/root/etc/group`], { timeout: 1000 }).signal, 'SIGTERM');
    const r = box(['exec', '-u', 'hostonly', 'esc-user', 'id', '-u'], { timeout: 20000 });
    assert.is(r.signal, null, 'box exec hung');
    assert.is.not(r.stdout.trim(), '4242');
    assert.match(r.stderr, /unable to find user hostonly/);
    const g = box(['exec', '-u', '0:0', 'esc-user', 'id', '-u'], { timeout: 20000 });
    assert.is(g.signal, null, 'box exec hung on a FIFO');
  } finally {
    cleanup('esc-user');
  }
});

withProbe('a container gets a fresh session keyring, not the caller\'s (control: the probe reads the caller\'s key on the host)', () => {
  const control = spawnSync(PROBE, ['keyring-host', '--', PROBE, 'keyring-read'], { encoding: 'utf8' });
  assert.is(control.stdout.trim(), 'FOUND host-secret', control.stderr);
  // Unconfined: the default seccomp filter refuses keyctl altogether; the keyring must be fresh
  // also where a container may call it (seccomp=unconfined, a custom profile).
  const r = spawnSync(PROBE, ['keyring-host', '--', process.execPath, '--', BOX, 'run', '--rm', ...UNCONFINED, ...PROBE_VOL, 'busybox', '/probe/escape-probe', 'keyring-read'], { encoding: 'utf8', env: ENV });
  assert.is(r.stdout.trim(), 'absent', r.stderr);
  detached(['--name', 'esc-keys', ...UNCONFINED, 'busybox', 'sleep', '3600']);
  try {
    const e = spawnSync(PROBE, ['keyring-host', '--', process.execPath, '--', BOX, 'exec', 'esc-keys', 'true'], { encoding: 'utf8', env: ENV });
    assert.is(e.status, 0, e.stderr);
    const inExec = spawnSync(PROBE, ['keyring-host', '--', process.execPath, '--', BOX, 'run', '--rm', ...UNCONFINED, ...PROBE_VOL, 'busybox', 'sh', '-c', '/probe/escape-probe keyring-read'], { encoding: 'utf8', env: ENV });
    assert.is(inExec.stdout.trim(), 'absent', inExec.stderr);
  } finally {
    cleanup('esc-keys');
  }
});

test('a non-root user: existing working directories are never chowned, --read-only works, its stdio can be reopened (controls: a new dir is chowned, a root-owned file as stdout is not writable)', () => {
  const vol = path.join(tmp, 'vol');
  fs.mkdirSync(vol);
  const owners = box(['run', '--rm', '-u', '1000', '-w', '/etc', 'busybox', 'stat', '-c', '%u', '/etc', '/']);
  assert.is(owners.stdout, '0\n0\n', owners.stderr);
  assert.is(box(['run', '--rm', '-u', '1000', '-v', `${vol}:/data`, '-w', '/data', 'busybox', 'true']).status, 0);
  assert.is(fs.statSync(vol).uid, 0, 'a host volume was chowned');
  assert.is(box(['run', '--rm', '-u', '1000', '-w', '/made/here', 'busybox', 'stat', '-c', '%u', '/made/here', '/made']).stdout, '1000\n1000\n'); // control
  const ro = box(['run', '--rm', '--read-only', '-u', '1000', 'busybox', 'sh', '-c', 'echo ok; pwd']);
  assert.is(ro.stdout, 'ok\n/\n', ro.stderr);
  // through a real pipe (box's own spawnSync gives sockets, which no one can reopen)
  const piped = spawnSync('sh', ['-c', `"${process.execPath}" -- "${BOX}" run --rm -u 1000 busybox sh -c 'echo reopened > /dev/stdout' | cat`], { encoding: 'utf8', env: ENV });
  assert.is(piped.stdout, 'reopened\n', piped.stderr);
  const out = path.join(tmp, 'root-owned-stdout');
  const fd = fs.openSync(out, 'w', 0o644);
  const denied = spawnSync(process.execPath, ['--', BOX, 'run', '--rm', '-u', '1000', 'busybox', 'sh', '-c', 'echo x > /dev/stdout'], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', env: ENV });
  fs.closeSync(fd);
  assert.match(denied.stderr, /No such device or address/); // relayed: not the host file (test below)
  assert.is(fs.statSync(out).uid, 0, 'a host file given as stdout was chowned');
});

test('host files as box\'s stdin and stdout are relayed, never handed over: the container cannot reopen them through /proc/self/fd to rewrite, read back or truncate them (control: a pipe is handed over)', () => {
  const victim = path.join(tmp, 'victim');
  const log = path.join(tmp, 'log');
  const attempt = 'cat; stat -L -c %F /proc/self/fd/0 /proc/self/fd/1 >&2; (echo pwned > /proc/self/fd/0) 2>/dev/null; (cat /proc/self/fd/1 >&2) 2>/dev/null; (: > /proc/self/fd/1) 2>/dev/null; echo after';
  const check = (label: string) => {
    fs.writeFileSync(victim, 'secret\n');
    fs.writeFileSync(log, 'earlier\n');
    const inFd = fs.openSync(victim, 'r'), outFd = fs.openSync(log, 'a');
    const r = spawnSync(BOX, ['run', '--rm', '-i', 'busybox', 'sh', '-c', attempt], { stdio: [inFd, outFd, 'pipe'], encoding: 'utf8', env: ENV });
    fs.closeSync(inFd); fs.closeSync(outFd);
    assert.is(r.status, 0, `${label}: ${r.stderr}`);
    assert.is(fs.readFileSync(victim, 'utf8'), 'secret\n', `${label}: the host's stdin file was rewritten`);
    assert.is(fs.readFileSync(log, 'utf8'), 'earlier\nsecret\nafter\n', `${label}: the host's stdout file was read back or truncated`);
    assert.not.match(r.stderr, /regular file|earlier/, label);
  };
  check('cold');
  try {
    assert.is(box(['run', '-d', '--name', 'esc-stdio', 'busybox', 'sleep', '1d']).status, 0); // a supervisor and its pool run
    check('with a supervisor');
  } finally {
    box(['rm', '-f', 'esc-stdio']);
  }
  // control: a pipe is the container's own, as before (no relay)
  const piped = spawnSync('sh', ['-c', `echo in | "${BOX}" run --rm -i busybox sh -c 'stat -L -c %F /proc/self/fd/0; cat' | cat`], { encoding: 'utf8', env: ENV });
  assert.is(piped.stdout, 'fifo\nin\n', piped.stderr);
});

test('exec -w into a /proc magic link fails at once instead of spinning', () => {
  detached(['--name', 'esc-wd', 'busybox', 'sleep', '3600']);
  try {
    const t0 = Date.now();
    const r = box(['exec', '-w', '/proc/self/fd/99', 'esc-wd', 'pwd'], { timeout: 20000 });
    assert.is(r.signal, null);
    assert.is(r.status, 126, r.stderr);
    assert.ok(Date.now() - t0 < 10000);
  } finally {
    cleanup('esc-wd');
  }
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
