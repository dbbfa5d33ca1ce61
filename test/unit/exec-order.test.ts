// The `__exec` stage (lib/inside/exec.ts) run for real against the recording fake libc: every
// namespace fd opened before the first setns, cgroups joined before, setns(pid) last, caps
// before ids, the command spawned last; and its spawn failures as Docker's exit statuses.
import { test } from 'uvu';
import { EventEmitter } from 'node:events';
import * as assert from 'uvu/assert';
import { FakeLibc, Gone, fakeStats } from '../fakes/libc';
import { stageConfig, CGROUP_PROCS } from '../fakes/stage-config';
import { stageExec, ExecConfig } from '../../lib/inside/exec';
import { CLONE } from '../../lib/libc/constants';
import { CHANNEL_FD, FD_SOCKET } from '../../lib/inside/protocol';
import { ContainerSpec } from '../../lib/options/types';

const NO_PID = 0x7ffffff0; // above any pid_max: neither the owner nor PID 1 is alive, so exec looks in the cgroup
const CANDIDATES = '/sys/fs/cgroup/pids/box/c1/cgroup.procs';
const INODES: Record<string, number> = { ipc: 11, uts: 12, net: 13, pid: 14, cgroup: 15, mnt: 16 };
const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

function execConfig(over: Partial<ContainerSpec> = {}): ExecConfig {
  return {
    pid: NO_PID, pidStart: '1', namespaces: INODES, owner: { pid: NO_PID, start: '1', fds: {} },
    candidates: CANDIDATES, cgroupProcs: CGROUP_PROCS, detach: false, stage: stageConfig(over),
  };
}

/** Process 4242 of the container's cgroup is in the recorded namespaces. */
function namespaces(f: FakeLibc) {
  f.files.set(CANDIDATES, '4242\n');
  for (const [n, ino] of Object.entries(INODES)) f.stats.set(`/proc/4242/ns/${n}`, fakeStats({ ino }));
}

/**
 * Run the stage up to the spawned command, then `then(child)` while the fake is still in place:
 * the stage's listeners on the child call libc (exit, _exit), which must not be the real one.
 */
function runExec(over: Partial<ContainerSpec> = {}, setup: (f: FakeLibc) => void = () => {}, then: (child: any, f: FakeLibc) => void = () => {}, cfg: Partial<ExecConfig> = {}) {
  const fake = new FakeLibc();
  const base = execConfig(over);
  fake.channel.push({ ...base, ...cfg, stage: { ...base.stage, ...cfg.stage } });
  namespaces(fake);
  setup(fake);
  const before = new Map(FORWARDED.map((s) => [s, process.listeners(s)]));
  fake.install();
  try {
    try {
      stageExec();
    } catch (e) {
      if (!(e instanceof Gone)) throw e;
    }
    then(fake.calls.find((c) => c.name === 'spawn')?.result, fake);
  } finally {
    fake.restore();
    // the stage forwards signals to its command: take its handlers off the test runner
    for (const s of FORWARDED) for (const l of process.listeners(s)) if (!before.get(s)!.includes(l)) process.off(s, l);
  }
  return { fake, trace: fake.trace() };
}

const indexes = (trace: string[], pred: (l: string) => boolean) => trace.flatMap((l, i) => (pred(l) ? [i] : []));
const only = (f: FakeLibc, name: string) => { const i = f.calls.findIndex((c) => c.name === name); assert.ok(i >= 0, `no ${name}`); return i; };

test('__exec: every namespace fd opened before the first setns; cgroups joined and CLONE_FS unshared before it; pid last', () => {
  const { fake, trace } = runExec();
  const setns = indexes(trace, (l) => l.startsWith('setns '));
  assert.equal(setns.map((i) => trace[i]), ['setns ipc', 'setns uts', 'setns net', 'setns cgroup', 'setns mnt', 'setns pid']);
  const opens = indexes(trace, (l) => /^open \/proc\/4242\/ns\//.test(l));
  assert.is(opens.length, 6);
  assert.ok(opens.every((i) => i < setns[0]), 'nothing is opened after the first setns: the container could have swapped it');
  for (const p of CGROUP_PROCS) assert.ok(trace.indexOf(`writeFile ${p}`) >= 0 && trace.indexOf(`writeFile ${p}`) < setns[0], p);
  const fsUnshare = trace.indexOf(`unshare ${CLONE.FS}`);
  assert.ok(fsUnshare >= 0 && fsUnshare < trace.indexOf('setns mnt'), 'setns(mnt) is EINVAL while fs_struct is shared');
  assert.is(fake.calls[setns[5]].args[1], CLONE.NEWPID);
  assert.ok(setns.slice(0, 5).every((i) => fake.calls[i].args[1] === 0));
  // the fds joined are exactly the ones that matched the recorded inodes
  assert.ok(fake.calls.filter((c) => c.name === 'setns').every((c) => fake.opened.get(c.args[0])!.startsWith('/proc/4242/ns/')));
});

test('__exec: a process whose namespaces differ from the recorded ones is never joined', () => {
  // 4141 comes first and is in every recorded namespace but the mount namespace
  const { fake, trace } = runExec({}, (f) => {
    f.files.set(CANDIDATES, '4141\n4242\n');
    for (const n of Object.keys(INODES)) f.stats.set(`/proc/4141/ns/${n}`, fakeStats({ ino: n === 'mnt' ? 99 : INODES[n] }));
  });
  assert.ok(trace.includes('open /proc/4141/ns/mnt'), 'the first candidate was tried');
  const setns = fake.calls.filter((c) => c.name === 'setns');
  assert.is(setns.length, 6);
  assert.ok(setns.every((c) => fake.opened.get(c.args[0])!.startsWith('/proc/4242/')), trace.join('\n'));
  // 4141's fds were all closed before any setns
  const firstSetns = trace.findIndex((l) => l.startsWith('setns '));
  for (const n of ['ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt']) assert.ok(trace.indexOf(`close /proc/4141/ns/${n}`) < firstSetns, n);
});

test('__exec: capabilities before ids; the command spawned last, after every drop and the fd clean-up', () => {
  let end: unknown;
  const { fake, trace } = runExec({ user: { uid: 1000, gid: 1000, groups: [] } }, () => {}, (child) => {
    try { child.emit('exit', 3, null); } catch (e) { end = e; }
  });
  const caps = only(fake, 'limitCapabilities'), ids = only(fake, 'setIds'), spawn = only(fake, 'spawn');
  assert.ok(trace.lastIndexOf('setns pid') < caps && caps < ids && ids < spawn);
  assert.ok(only(fake, 'loadSeccomp') < caps, 'no no_new_privs: the filter before the drop');
  for (const name of ['unshare', 'setns', 'prctl', 'limitCapabilities', 'setIds', 'loadSeccomp', 'joinNewSessionKeyring', 'closeRangeCloexec', 'sendFd', 'openPtyInside'] as const) {
    assert.not.ok(fake.calls.some((c, i) => i > spawn && c.name === name), `${name} after the command was spawned`);
  }
  assert.ok(trace.indexOf(`close ${FD_SOCKET}`) < spawn, 'the fd socket is not inherited');
  assert.ok(only(fake, 'closeRangeCloexec') < spawn);
  assert.ok(trace.indexOf(`write ${CHANNEL_FD} {"ready":true}`) < caps, '"ready" while still privileged');
  assert.equal(fake.calls[spawn].args.slice(0, 2), ['/bin/sh', ['-c', 'true']]);
  assert.ok(trace.findIndex((l) => l.startsWith(`write ${CHANNEL_FD} {"started":true`)) > spawn); // with the host PID (OCI exec --pid-file)
  // the command's status becomes the stage's, by _exit
  assert.ok(end instanceof Gone && end.how === 'exitNow' && end.status === 3, String(end));
});

test('__exec with the sysinfo view: its filter before the profile\'s, the listener sent before the command is spawned; none for exec -d (it outlives box)', () => {
  const sysinfoView = Buffer.alloc(16, 7).toString('base64');
  const loads = (f: FakeLibc) => f.calls.filter((c) => c.name === 'loadSeccomp').map((c) => Buffer.from(c.args[0]).toString('base64'));
  const { fake } = runExec({}, () => {}, (child) => { try { child.emit('exit', 0, null); } catch { /* Gone */ } }, { stage: { sysinfoView } as any });
  const l = loads(fake);
  assert.is(l.length, 2);
  assert.is(l[0], sysinfoView);
  assert.ok(fake.sent.findIndex((m) => m.sysinfoListener) < fake.sent.findIndex((m) => m.started), 'announced before "started"');
  const detached = runExec({}, () => {}, () => {}, { detach: true, stage: { sysinfoView } as any }).fake;
  assert.is(loads(detached).length, 1, 'exec -d: the profile\'s filter only');
  assert.not.ok(detached.sent.some((m) => m.sysinfoListener));
});

test('__exec: a command that cannot be spawned exits 126 or 127, named as run names it', () => {
  for (const [code, status, message] of [['EACCES', 126, 'exec /bin/sh: permission denied'], ['ENOENT', 127, 'exec /bin/sh: no such file or directory'], ['E2BIG', 126, 'exec /bin/sh: spawn E2BIG']] as const) {
    let end: unknown;
    const { fake } = runExec({}, (f) => { f.script.spawn = () => Object.assign(new EventEmitter(), { pid: undefined }) as any; }, (child) => {
      try { child.emit('error', Object.assign(new Error(`spawn ${code}`), { code })); } catch (e) { end = e; }
    });
    assert.ok(end instanceof Gone && end.how === 'exit' && end.status === status, `${code}: ${end}`);
    assert.equal(fake.sent.find((m) => m.error), { error: message, status });
  }
});

test.run();
