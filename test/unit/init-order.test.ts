// The `__init` stage (lib/inside/init.ts + finish.ts) run for real against the recording fake
// libc: the order of the steps containment depends on, and execve's failures as Docker's exit
// statuses, without root.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeLibc, Gone } from '../fakes/libc';
import { stageConfig, CGROUP_PROCS } from '../fakes/stage-config';
import { stageInit } from '../../lib/inside/init';
import { SysError } from '../../lib/libc/errors';
import { CLONE, PR } from '../../lib/libc/constants';
import { CHANNEL_FD, EXE_FD } from '../../lib/inside/protocol';
import { ContainerSpec, StageConfig } from '../../lib/options/types';
import { SECCOMP_FILTER_FLAG_NEW_LISTENER } from '../../lib/libc/seccomp';

const NON_ROOT = { uid: 1000, gid: 1000, groups: [] };

/** Run the stage to its end (execve, or exit on failure) with `cfg` and then "start" on its channel. */
function runInit(over: Partial<ContainerSpec> = {}, setup: (f: FakeLibc) => void = () => {}, cfg: Partial<StageConfig> = {}) {
  const fake = new FakeLibc();
  fake.channel.push({ ...stageConfig(over), ...cfg }, { start: true });
  setup(fake);
  fake.install();
  try {
    stageInit();
  } catch (e) {
    if (!(e instanceof Gone)) throw e;
  } finally {
    fake.restore();
  }
  assert.ok(fake.end, 'the stage neither exec\'d nor exited');
  return { fake, trace: fake.trace(), end: fake.end! };
}

/** Index of the first call matching, failing when there is none. */
function first(f: FakeLibc, pred: (name: string, args: any[], line: string) => boolean, what: string): number {
  const trace = f.trace();
  const i = f.calls.findIndex((c, n) => pred(c.name, c.args, trace[n]));
  assert.ok(i >= 0, `no ${what} in:\n${trace.join('\n')}`);
  return i;
}
const call = (f: FakeLibc, name: string, what = name) => first(f, (n) => n === name, what);
const line = (f: FakeLibc, l: string) => first(f, (_n, _a, t) => t === l, `"${l}"`);
const prctl = (f: FakeLibc, option: number, what: string) => first(f, (n, a) => n === 'prctl' && a[0] === option, what);

test('__init: non-dumpable before anything is read; cgroup.procs opened before the new namespaces, unshare before any mount', () => {
  const { fake, end } = runInit();
  assert.is(end.how, 'execve');
  const trace = fake.trace();
  assert.is(trace[0], `close ${EXE_FD}`, 'no fd on its own executable');
  assert.is(trace[1], `prctl ${PR.SET_DUMPABLE} 0`);
  assert.ok(line(fake, `read ${CHANNEL_FD}`) > 1, 'config read after PR_SET_DUMPABLE 0');
  const unshare = first(fake, (n, a) => n === 'unshare' && a[0] === (CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET), 'unshare(NEWNS|NEWUTS|NEWIPC|NEWNET)');
  for (const p of CGROUP_PROCS) assert.ok(line(fake, `open ${p}`) < unshare, `${p} opened while the host's /sys is visible`);
  assert.ok(unshare < call(fake, 'mount'), 'every mount inside the new mount namespace');
  assert.ok(line(fake, 'pivotRoot . .') > unshare);
});

test('__init: pty opened inside after the pivot; "ready" sent before "start" is read; cgroups joined late, before unshare(NEWCGROUP)', () => {
  const { fake } = runInit({ tty: true });
  const trace = fake.trace();
  const detach = line(fake, 'umount2 .');
  const pty = call(fake, 'openPtyInside');
  assert.ok(pty > detach, 'the pty multiplexer is the container\'s, opened after the old root is gone');
  const ready = line(fake, `write ${CHANNEL_FD} {"ready":true,"pty":0}`);
  assert.ok(pty < ready && call(fake, 'sendFd') < ready, 'the pty master is passed before "ready"');
  const reads = trace.flatMap((l, i) => (l === `read ${CHANNEL_FD}` ? [i] : []));
  assert.is(reads.length, 2, 'config, then start');
  assert.ok(reads[1] > ready, '"start" read only after "ready"');
  assert.ok(line(fake, 'sethostname h') < ready);
  const joins = CGROUP_PROCS.map((p) => line(fake, `write ${p} 0`));
  assert.ok(joins.every((i) => i > reads[1]), 'joined after "start": set-up ran outside the limits');
  const cgroupns = first(fake, (n, a) => n === 'unshare' && a[0] === CLONE.NEWCGROUP, 'unshare(NEWCGROUP)');
  assert.ok(joins.every((i) => i < cgroupns), 'the cgroup namespace is rooted at the container\'s cgroup');
  assert.ok(call(fake, 'setControllingTty') > reads[1]);
});

test('__init: capabilities limited before setresuid/setresgid; seccomp before the drop without no_new_privs; execve last', () => {
  const { fake, end } = runInit({ user: NON_ROOT });
  assert.is(end.how, 'execve');
  const caps = call(fake, 'limitCapabilities'), ids = call(fake, 'setIds'), seccomp = call(fake, 'loadSeccomp');
  assert.ok(caps < ids, 'capabilities first: after setuid a non-root user could not drop them');
  assert.is(fake.calls[caps].args[2]?.boundingOnly, true, 'a non-root user: only the bounding set (capset would fail)');
  assert.ok(seccomp < caps, 'without no_new_privs the filter needs CAP_SYS_ADMIN: before the drop');
  assert.not.ok(fake.calls.some((c) => c.name === 'setNoNewPrivs'));
  assert.ok(prctl(fake, PR.SET_PDEATHSIG, 'PDEATHSIG') < ids);
  assert.ok(fake.calls.some((c, i) => i > ids && c.name === 'prctl' && c.args[0] === PR.SET_PDEATHSIG), 'the death signal set again: setuid cleared it');
  assert.ok(call(fake, 'resetSignals') < seccomp && call(fake, 'closeRangeCloexec') < seccomp, 'signals and fds reset before the filter');
  const last = fake.calls[fake.calls.length - 1];
  assert.is(last.name, 'execve');
  assert.equal(last.args.slice(0, 2), ['/bin/sh', ['/bin/sh', '-c', 'true']]);
});

test('__init: with no_new_privs the filter goes in after the drop and after no_new_privs', () => {
  const { fake } = runInit({ user: NON_ROOT, noNewPrivileges: true });
  const caps = call(fake, 'limitCapabilities'), ids = call(fake, 'setIds'), nnp = call(fake, 'setNoNewPrivs'), seccomp = call(fake, 'loadSeccomp');
  assert.ok(caps < ids && ids < nnp && nnp < seccomp, fake.trace().join('\n'));
  assert.is(fake.calls.filter((c) => c.name === 'loadSeccomp').length, 1);
  assert.is(fake.calls[fake.calls.length - 1].name, 'execve');
});

const SYSINFO = Buffer.alloc(16, 7).toString('base64'); // stands for box's sysinfo filter

for (const noNewPrivileges of [false, true]) {
  test(`__init with the sysinfo view${noNewPrivileges ? ' and no_new_privs' : ''}: box's sysinfo filter loaded with a listener right before the profile's, its fd sent and closed before execve`, () => {
    const { fake, end } = runInit({ user: NON_ROOT, noNewPrivileges }, () => {}, { sysinfoView: SYSINFO });
    assert.is(end.how, 'execve');
    const loads = fake.calls.flatMap((c, i) => (c.name === 'loadSeccomp' ? [i] : []));
    assert.is(loads.length, 2, fake.trace().join('\n'));
    const [mine, profile] = loads.map((i) => fake.calls[i]);
    assert.is(Buffer.from(mine.args[0]).toString('base64'), SYSINFO, 'the sysinfo filter first: the profile\'s is the newer, and its denial wins');
    assert.is(mine.args[1], SECCOMP_FILTER_FLAG_NEW_LISTENER);
    assert.is(profile.args[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER, 0);
    const sent = fake.calls.findIndex((c, i) => i > loads[0] && c.name === 'sendFd');
    assert.ok(sent > loads[0] && sent < loads[1], 'the listener goes to box before the profile\'s filter is in');
    assert.ok(fake.calls.some((c, i) => i > sent && i < loads[1] && c.name === 'close'), 'the stage\'s copy closed: box holds the only one');
    assert.ok(fake.sent.some((m) => m.sysinfoListener === true));
    const caps = call(fake, 'limitCapabilities');
    if (noNewPrivileges) assert.ok(call(fake, 'setNoNewPrivs') < loads[0] && caps < loads[0], 'after the drop and no_new_privs');
    else assert.ok(loads[1] < caps, 'before the drop: it needs CAP_SYS_ADMIN');
  });
}

test('__init without the view (none asked, OCI mode, or no profile): one filter or none, no listener sent', () => {
  assert.is(runInit().fake.calls.filter((c) => c.name === 'loadSeccomp').length, 1);
  const bare = new FakeLibc();
  bare.channel.push({ ...stageConfig({}, false), sysinfoView: SYSINFO }, { start: true });
  bare.install();
  try { stageInit(); } catch (e) { if (!(e instanceof Gone)) throw e; } finally { bare.restore(); }
  assert.not.ok(bare.calls.some((c) => c.name === 'loadSeccomp'), 'no profile (--privileged, unconfined): no filter at all');
  assert.not.ok(bare.sent.some((m) => m.sysinfoListener));
});

test('__init --init: tini loaded into its memfd before the pivot hides ./box, exec\'d last instead of the command', () => {
  const { fake, end } = runInit({ init: true });
  assert.is(end.how, 'execveatFd');
  assert.ok(first(fake, (n, a) => n === 'sealedExecutable' && a[0] === 'box-init', 'the tini memfd') < line(fake, 'pivotRoot . .'));
  assert.not.ok(fake.calls.some((c) => c.name === 'execve'));
  assert.is(fake.calls[fake.calls.length - 1].name, 'execveatFd');
});

test('__init: execve failures exit as Docker does: 126 cannot invoke, 127 not found, 125 otherwise', () => {
  const cases: [number, number, RegExp][] = [
    [13, 126, /^exec \/bin\/sh: permission denied$/],   // EACCES: no x for this user, or noexec mount
    [8, 126, /^exec \/bin\/sh: exec format error$/],    // ENOEXEC: not a binary, no #!
    [2, 127, /^exec \/bin\/sh: no such file or directory$/], // ENOENT: the #! interpreter or ELF loader is missing
    [7, 125, /^execve \/bin\/sh: /],                    // E2BIG: box's own kind of error
  ];
  for (const [errno, status, message] of cases) {
    const { fake, end } = runInit({}, (f) => { f.script.execve = (file) => { throw new SysError('execve', errno, file); }; });
    assert.is(end.how, 'exit');
    assert.is(end.status, status, `errno ${errno}`);
    const error = fake.sent.find((m) => m.error);
    assert.is(error?.status, status);
    assert.match(error?.error, message);
  }
});

test('__init: box gone before "start" (EOF) → exit 125 before any of the container\'s code runs', () => {
  const { fake, end } = runInit({}, (f) => f.channel.pop());
  assert.is(end.how, 'exit');
  assert.is(end.status, 125);
  assert.not.ok(fake.calls.some((c) => ['execve', 'setIds', 'limitCapabilities'].includes(c.name)));
});

test.run();
