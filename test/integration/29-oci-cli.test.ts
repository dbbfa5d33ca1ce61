// box as an OCI runtime, driven directly through runc's command line the way engines drive
// it (the engines themselves: 30-32): a bundle made here from the busybox rootfs, a private
// --root, cgroups under this suite's own parent. Every container waits for a signal or for
// input, so no check races a short-lived process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync, spawn } from 'node:child_process';
import { BOX, TOP, CG_PARENT, cgroupParents, until, alive, cmdline } from '../helpers/box';

const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'box-oci-cli-'));
const ROOT = path.join(WORK, 'state');
const LOG = path.join(WORK, 'log.json');
const ROOTFS = path.join(WORK, 'rootfs');
fs.mkdirSync(ROOTFS);
spawnSync('tar', ['-xzf', path.join(TOP, 'images', 'busybox.tar.gz'), '-C', ROOTFS]);

interface Out { status: number; stdout: string; stderr: string }
/** box with runc's global flags first, as dockerd and containerd's shim call it. */
function oci(args: string[], opts: { input?: string; stdio?: any } = {}): Out {
  const r = spawnSync(process.execPath, ['--', BOX, '--root', ROOT, '--log', LOG, '--log-format', 'json', ...args], { encoding: 'utf8', timeout: 60000, input: opts.input, stdio: opts.stdio });
  return { status: r.status ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}
const ok = (r: Out) => { assert.is(r.status, 0, r.stderr); return r.stdout; };
const state = (id: string) => JSON.parse(ok(oci(['state', id])));
const cgroupsPath = (id: string) => `/${CG_PARENT}/oci-${id}`;
/** The container's directory in the hierarchy that has `file`. */
const cgFile = (id: string, file: string) => cgroupParents().map((p) => path.join(p, `oci-${id}`, file)).find((f) => fs.existsSync(f));

let n = 0;
/** A bundle whose config.json is `runc spec`'s default with these changes. */
function bundle(args: string[], edit: (c: any) => void = () => {}): { dir: string; id: string } {
  const id = `oci-${process.pid}-${++n}`;
  const dir = path.join(WORK, id);
  fs.mkdirSync(dir);
  ok(oci(['spec', '--bundle', dir]));
  const c = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  c.root = { path: ROOTFS, readonly: true };
  c.process.terminal = false;
  c.process.args = args;
  c.linux.cgroupsPath = cgroupsPath(id);
  c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
  edit(c);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
  return { dir, id };
}

/** create with stdout/stderr to a file, as conmon gives the runtime pipes; the pid file checked. */
function create(b: { dir: string; id: string }, extra: string[] = []): { pid: number; out: string } {
  const out = path.join(b.dir, 'out');
  const fd = fs.openSync(out, 'w');
  try {
    ok(oci(['create', '--bundle', b.dir, '--pid-file', path.join(b.dir, 'pid'), ...extra, b.id], { stdio: ['ignore', fd, fd] }));
  } finally {
    fs.closeSync(fd);
  }
  return { pid: Number(fs.readFileSync(path.join(b.dir, 'pid'), 'utf8')), out };
}
const output = (file: string) => fs.readFileSync(file, 'utf8');
const WAIT_TERM = 'trap "exit 0" TERM; while :; do sleep 0.1; done';

function cleanup(id: string) {
  oci(['delete', '--force', id]);
}

test('create leaves the init waiting before the user process; start runs it; delete leaves nothing', async () => {
  const b = bundle(['sh', '-c', `echo started as $$ in $(hostname); ${WAIT_TERM}`]);
  try {
    const { pid, out } = create(b);
    const s = state(b.id);
    assert.is(s.status, 'created');
    assert.is(s.pid, pid);
    assert.is(s.bundle, b.dir);
    assert.is(s.ociVersion.split('.')[0], '1');
    assert.ok(alive(pid));
    assert.is(output(out), '', 'nothing of the user process ran before start');
    // already in its cgroup, with the limits: the engine sees it from create on
    assert.match(fs.readFileSync(cgFile(b.id, 'cgroup.procs')!, 'utf8'), new RegExp(`^${pid}$`, 'm'));
    ok(oci(['start', b.id]));
    await until(() => output(out).includes('started'), 10000, 'the user process');
    assert.is(output(out).trim(), 'started as 1 in box');
    assert.is(state(b.id).status, 'running');
    assert.is(oci(['start', b.id]).status, 1, 'a second start is refused');
    // nothing of box stays: the init is the user's shell, and no box process names this root
    assert.match(cmdline(pid), /^sh -c /);
    const boxes = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && cmdline(Number(p)).includes(ROOT));
    assert.equal(boxes, [], `box processes resident: ${boxes.map((p) => cmdline(Number(p))).join('; ')}`);
    // isolated: every namespace but the user's differs from this process's
    for (const ns of ['mnt', 'uts', 'ipc', 'net', 'pid']) assert.is.not(fs.readlinkSync(`/proc/${pid}/ns/${ns}`), fs.readlinkSync(`/proc/self/ns/${ns}`), ns);
    assert.is(oci(['delete', b.id]).status, 1, 'delete of a running container needs --force');
    ok(oci(['kill', b.id, '15']));
    await until(() => state(b.id).status === 'stopped', 10000, 'the exit');
    ok(oci(['delete', b.id]));
    assert.not.ok(fs.existsSync(path.join(ROOT, b.id)), 'the state directory is gone');
    assert.is(cgFile(b.id, 'cgroup.procs'), undefined, 'the cgroup is gone');
    assert.is(oci(['state', b.id]).status, 1);
  } finally {
    cleanup(b.id);
  }
});

test('config.json: limits, seccomp, rlimits-free defaults and masked paths hold; signals by name and number', async () => {
  const b = bundle(['sh', '-c', `trap "echo usr1" USR1; ${WAIT_TERM}`], (c) => {
    c.linux.resources = { ...c.linux.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 33 }, cpu: { quota: 50000, period: 100000 } };
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['sethostname'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  });
  try {
    const { pid, out } = create(b);
    ok(oci(['start', b.id]));
    await until(() => cmdline(pid).startsWith('sh'), 10000, 'exec');
    assert.is(fs.readFileSync(cgFile(b.id, 'memory.limit_in_bytes') ?? cgFile(b.id, 'memory.max')!, 'utf8').trim(), String(64 * 1024 * 1024));
    assert.is(fs.readFileSync(cgFile(b.id, 'pids.max')!, 'utf8').trim(), '33');
    assert.match(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /^Seccomp:\s+2$/m);
    ok(oci(['kill', b.id, 'USR1']));
    ok(oci(['kill', b.id, '10']));
    await until(() => output(out).split('usr1').length === 3, 10000, 'two USR1 traps');
    const pids = JSON.parse(ok(oci(['ps', '--format', 'json', b.id])));
    assert.ok(pids.includes(pid));
    ok(oci(['kill', '--all', b.id, 'KILL']));
    await until(() => state(b.id).status === 'stopped', 10000, 'the kill');
  } finally {
    cleanup(b.id);
  }
});

test('exec: --process JSON with --detach and --pid-file, and the inline form with its exit status', async () => {
  const b = bundle(['sh', '-c', WAIT_TERM]);
  try {
    const { pid } = create(b);
    assert.is(oci(['exec', b.id, 'true']).status, 1, 'no exec before start: the init is still box');
    ok(oci(['start', b.id]));
    await until(() => cmdline(pid).startsWith('sh'), 10000, 'exec');
    const proc = path.join(b.dir, 'process.json');
    fs.writeFileSync(proc, JSON.stringify({ args: ['sh', '-c', 'echo $$ > /tmp/exec-pid; sleep 30'], cwd: '/tmp', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } }));
    const pidFile = path.join(b.dir, 'exec.pid');
    // the detached process keeps the stdio it was given, as conmon's pipes: here none, or spawnSync would wait for it
    assert.is(oci(['exec', '--process', proc, '--detach', '--pid-file', pidFile, b.id], { stdio: 'ignore' }).status, 0);
    const execPid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(alive(execPid));
    assert.is(fs.readlinkSync(`/proc/${execPid}/ns/pid`), fs.readlinkSync(`/proc/${pid}/ns/pid`), 'born in the container\'s pid namespace');
    assert.is(fs.readlinkSync(`/proc/${execPid}/ns/mnt`), fs.readlinkSync(`/proc/${pid}/ns/mnt`));
    const inside = await until(() => oci(['exec', b.id, 'cat', '/tmp/exec-pid']).stdout.trim(), 10000, 'the exec\'d shell');
    assert.ok(Number(inside) > 1, `pid inside the container: ${inside}`);
    assert.is(oci(['exec', b.id, 'sh', '-c', 'exit 5']).status, 5);
  } finally {
    cleanup(b.id);
  }
});

test('pause/resume freeze the container; update --resources from a file and from stdin', async () => {
  const b = bundle(['sh', '-c', WAIT_TERM], (c) => { c.linux.resources.memory = { limit: 64 * 1024 * 1024 }; });
  try {
    const { pid } = create(b);
    ok(oci(['start', b.id]));
    await until(() => cmdline(pid).startsWith('sh'), 10000, 'exec');
    ok(oci(['pause', b.id]));
    assert.is(state(b.id).status, 'paused');
    assert.is(oci(['pause', b.id]).status, 1);
    ok(oci(['resume', b.id]));
    assert.is(state(b.id).status, 'running');
    const res = path.join(b.dir, 'res.json');
    fs.writeFileSync(res, JSON.stringify({ memory: { limit: 96 * 1024 * 1024 }, pids: { limit: 50 } }));
    ok(oci(['update', '--resources', res, b.id]));
    assert.is(fs.readFileSync(cgFile(b.id, 'pids.max')!, 'utf8').trim(), '50');
    ok(oci(['update', '--resources', '-', b.id], { input: JSON.stringify({ pids: { limit: 60 } }) }));
    assert.is(fs.readFileSync(cgFile(b.id, 'pids.max')!, 'utf8').trim(), '60');
    const mem = cgFile(b.id, 'memory.limit_in_bytes') ?? cgFile(b.id, 'memory.max')!;
    assert.is(fs.readFileSync(mem, 'utf8').trim(), String(96 * 1024 * 1024));
  } finally {
    cleanup(b.id);
  }
});

test('hooks: each gets the state JSON on stdin, where and with the privileges the spec says', async () => {
  const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${path.join(WORK, name)}.json`] });
  // createContainer's path is the runtime's: a script that exists only on the host
  const hostOnly = path.join(WORK, 'create-container-hook');
  fs.writeFileSync(hostOnly, `#!/bin/sh\ncat > ${path.join(WORK, 'createContainer')}.json\n`, { mode: 0o755 });
  const b = bundle(['sh', '-c', `cat /tmp/start.json; echo; cat /tmp/start.status; ${WAIT_TERM}`], (c) => {
    c.hooks = {
      prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], poststart: [hook('poststart')], poststop: [hook('poststop')],
      createContainer: [{ path: hostOnly }],
      // startContainer's path is the container's (the image's binary): it runs as the container's process would
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /tmp/start.json; grep -E "^(CapBnd|Seccomp):" /proc/self/status > /tmp/start.status'] }],
    };
    c.process.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['sethostname'], action: 'SCMP_ACT_ERRNO' }] };
  });
  try {
    const { pid, out } = create(b);
    const read = (name: string) => JSON.parse(fs.readFileSync(path.join(WORK, `${name}.json`), 'utf8'));
    for (const h of ['prestart', 'createRuntime', 'createContainer']) {
      const s = read(h);
      assert.is(s.id, b.id, h);
      assert.is(s.pid, pid, h);
      assert.is(s.status, 'creating', h);
    }
    assert.not.ok(fs.existsSync(path.join(WORK, 'poststart.json')));
    ok(oci(['start', b.id]));
    assert.is(read('poststart').status, 'running');
    await until(() => output(out).includes('Seccomp'), 10000, 'the startContainer hook\'s files, read by the container');
    const [json, ...status] = output(out).trim().split('\n');
    assert.is(JSON.parse(json).status, 'created');
    assert.match(status.join('\n'), /CapBnd:\s+0000000000000020/, 'only CAP_KILL: the container\'s bounding set');
    assert.match(status.join('\n'), /Seccomp:\s+2/, 'under the container\'s filter');
    ok(oci(['kill', b.id, 'TERM']));
    await until(() => state(b.id).status === 'stopped', 10000, 'the exit');
    ok(oci(['delete', b.id]));
    assert.is(read('poststop').status, 'stopped');
  } finally {
    cleanup(b.id);
  }
});

test('a hook past its timeout is killed and fails the create; nothing is left', () => {
  const b = bundle(['true'], (c) => { c.hooks = { prestart: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] }; });
  const t0 = Date.now();
  const r = oci(['create', '--bundle', b.dir, b.id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /prestart hook \/bin\/sleep: timed out after 1s \(killed\)/);
  assert.ok(Date.now() - t0 < 20000, 'not the hook\'s 30 s');
  assert.not.ok(fs.existsSync(path.join(ROOT, b.id)));
  assert.is(cgFile(b.id, 'cgroup.procs'), undefined);
});

test('--console-socket gets the pty master (SCM_RIGHTS), allocated inside the container', async () => {
  const b = bundle(['sh', '-c', 'tty; read line; echo got $line'], (c) => { c.process.terminal = true; c.process.consoleSize = { height: 30, width: 100 }; });
  const sock = path.join(WORK, `console-${n}.sock`);
  // a console receiver, as conmon is: takes the fd, echoes what the container writes, types a line
  const receiver = spawn('python3', ['-c', `
import socket, os, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
master = fds[0]
os.write(master, b"hello\\n")
data = b""
while b"got hello" not in data:
    chunk = os.read(master, 1024)
    if not chunk: break
    data += chunk
print(data.decode(errors="replace"), flush=True)
`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  receiver.stdout!.on('data', (d) => { text += d; });
  try {
    await until(() => text.includes('listening'), 10000, 'the receiver');
    create(b, ['--console-socket', sock]);
    ok(oci(['start', b.id]));
    await until(() => text.includes('got hello'), 15000, 'the container\'s answer through the pty');
    assert.match(text, /\/dev\/pts\/0/);
  } finally {
    receiver.kill();
    cleanup(b.id);
  }
});

test('bad input: one clear error as a JSON log line, exit 1, and nothing left behind', () => {
  const before = fs.existsSync(ROOT) ? fs.readdirSync(ROOT) : [];
  const cases: [(c: any) => void, RegExp][] = [
    [(c) => { c.linux.namespaces.push({ type: 'user' }); }, /linux\.namespaces\[\d\]: user namespaces are not supported/],
    [(c) => { c.linux.cgroupsPath = 'system.slice:box:x'; }, /cgroupsPath: .*systemd/],
    [(c) => { c.linux.cgroupsPath = '/../../etc'; }, /cgroupsPath: .* must not contain/],
    [(c) => { c.process.args = []; }, /process\.args/],
    [(c) => { c.process.capabilities.bounding.push('CAP_NOPE'); }, /process\.capabilities\.bounding\[\d+\]: unknown capability/],
    [(c) => { c.linux.resources.blockIO = { weight: 300 }; }, /linux\.resources\.blockIO is not supported/],
  ];
  for (const [edit, msg] of cases) {
    const b = bundle(['true'], edit);
    fs.rmSync(LOG, { force: true });
    const r = oci(['create', '--bundle', b.dir, b.id]);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, msg);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    const line = JSON.parse(fs.readFileSync(LOG, 'utf8').trim().split('\n').pop()!);
    assert.is(line.level, 'error');
    assert.match(line.msg, msg);
    assert.ok(line.time);
    assert.equal(fs.existsSync(ROOT) ? fs.readdirSync(ROOT) : [], before, 'no state directory');
    assert.is(cgFile(b.id, 'cgroup.procs'), undefined, 'no cgroup');
  }
  const sd = spawnSync(process.execPath, ['--', BOX, '--systemd-cgroup', 'state', 'x'], { encoding: 'utf8' });
  assert.is(sd.status, 1);
  assert.match(sd.stderr, /--systemd-cgroup: box has no systemd cgroup driver/);
  assert.is(oci(['state', 'no-such-container']).status, 1);
  assert.match(oci(['kill', 'no-such-container', '9']).stderr, /container does not exist/);
  ok(oci(['delete', '--force', 'no-such-container']));
});

test('create killed mid-way: delete --force (what engines run then) leaves no state, cgroup or process', async () => {
  const b = bundle(['sh', '-c', WAIT_TERM]);
  const p = spawn(process.execPath, ['--', BOX, '--root', ROOT, 'create', '--bundle', b.dir, b.id], { stdio: 'ignore' });
  const exited = new Promise((r) => p.on('exit', r)); // it may finish before the kill
  try {
    // killed as soon as its record exists: before or during the stage's setup
    await until(() => fs.existsSync(path.join(ROOT, b.id, 'state.json')), 20000, 'the record');
    p.kill('SIGKILL');
    await exited;
    ok(oci(['delete', '--force', b.id]));
    assert.not.ok(fs.existsSync(path.join(ROOT, b.id)));
    // the stage finds nobody to report to and exits; its cgroup was emptied and removed
    await until(() => cgFile(b.id, 'cgroup.procs') === undefined, 10000, 'the cgroup to go');
    const strays = fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x) && cmdline(Number(x)).includes('__init') && fs.readlinkSync(`/proc/${x}/cwd`).startsWith(b.dir));
    assert.equal(strays, []);
  } finally {
    p.kill('SIGKILL');
    cleanup(b.id);
  }
});

test('features, list and the other entry points (box oci …, a *runc name)', () => {
  const f = JSON.parse(ok(oci(['features'])));
  assert.ok(f.linux.namespaces.includes('pid'));
  assert.is(f.linux.cgroup.systemd, false);
  assert.ok(f.hooks.includes('createContainer'));
  assert.ok(JSON.parse(ok(oci(['list', '--format', 'json']))) instanceof Array);
  const viaVerb = spawnSync(process.execPath, ['--', BOX, 'oci', '--root', ROOT, 'list', '-q'], { encoding: 'utf8' });
  assert.is(viaVerb.status, 0, viaVerb.stderr);
  const link = path.join(WORK, 'box-runc');
  fs.symlinkSync(BOX, link);
  const viaName = spawnSync(process.execPath, ['--', link, 'state', 'nope'], { encoding: 'utf8' });
  assert.is(viaName.status, 1);
  assert.match(viaName.stderr, /container does not exist: nope/);
});

test.after(() => {
  for (const id of fs.existsSync(ROOT) ? fs.readdirSync(ROOT) : []) oci(['delete', '--force', id]);
  // an OCI cgroupsPath's parent is the engine's, which box leaves: here it is this suite's own
  for (const p of cgroupParents()) try { fs.rmdirSync(p); } catch { /* other containers of the suite, or never made */ }
  fs.rmSync(WORK, { recursive: true, force: true });
});

test.run();
