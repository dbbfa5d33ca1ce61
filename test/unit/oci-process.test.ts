// config.json's process extras (lib/inside/process.ts) as the stages carry them out, against the
// recording fake libc: oom_score_adj, umask and rlimits before the filter and the capability
// drop; the bounding set first, ids kept across setresuid, capset, ambient last; no keyring
// with noNewKeyring; rlimits never above box's hard limit. And box's own path without them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeLibc, Gone, fakeStats } from '../fakes/libc';
import { stageConfig, CGROUP_PROCS } from '../fakes/stage-config';
import { finish } from '../../lib/inside/finish';
import { stageInit } from '../../lib/inside/init';
import { stageExec, ExecConfig } from '../../lib/inside/exec';
import { PR } from '../../lib/libc/constants';
import { RLIM_INFINITY } from '../../lib/libc/process';
import { DEFAULT_CAPS } from '../../lib/options/capabilities';
import { ContainerSpec, ProcessExtras, StageConfig } from '../../lib/options/types';

const PR_SET_KEEPCAPS = 8, RAISE = 2, RLIMIT_NOFILE = 7, RLIMIT_NPROC = 6;
const NON_ROOT = { uid: 1000, gid: 1000, groups: [] };
const bit = (...caps: number[]) => caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);
const CHOWN = 0, NET_BIND_SERVICE = 10, SYS_RESOURCE = 24;

/** podman's process extras (test/fixtures/oci/podman-generated-config.json), with an ambient set and oom_score_adj. */
function extras(over: Partial<ProcessExtras> = {}): ProcessExtras {
  const caps = DEFAULT_CAPS.map((c) => `CAP_${c}`);
  return {
    rlimits: [{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }, { type: 'RLIMIT_NPROC', soft: 32768, hard: 32768 }],
    umask: 0o022, oomScoreAdj: 100,
    capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: ['CAP_NET_BIND_SERVICE'], ambient: ['CAP_NET_BIND_SERVICE', 'CAP_SYS_ADMIN'] },
    noNewKeyring: false, ...over,
  };
}

function ociConfig(x: ProcessExtras, over: Partial<ContainerSpec> = {}): StageConfig {
  return { ...stageConfig(over), oci: { plan: [], gate: '/run/box/c1/exec.fifo', unshare: 0, join: [], process: x, hooks: { createContainer: [], startContainer: [] }, state: '{}' } };
}

/** finish() (the __init stage after "start") to its execve or exit. */
function runFinish(cfg: StageConfig, setup: (f: FakeLibc) => void = () => {}) {
  const fake = new FakeLibc();
  fake.rlimits.set(RLIMIT_NPROC, { soft: 63000n, hard: 63000n });
  setup(fake);
  fake.install();
  let error: unknown;
  try { finish(cfg, undefined, [], 40); } catch (e) { if (!(e instanceof Gone)) error = e; } finally { fake.restore(); }
  return { fake, trace: fake.trace(), error };
}

const where = (f: FakeLibc, pred: (name: string, args: any[]) => boolean, what: string) => {
  const i = f.calls.findIndex((c) => pred(c.name, c.args));
  assert.ok(i >= 0, `no ${what} in:\n${f.trace().join('\n')}`);
  return i;
};
const last = (f: FakeLibc, pred: (name: string, args: any[]) => boolean) => f.calls.map((c, i) => (pred(c.name, c.args) ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
const prctl = (op: number, arg?: number) => (n: string, a: any[]) => n === 'prctl' && a[0] === op && (arg === undefined || a[1] === arg);

test('OCI __init: oom_score_adj, umask, rlimits, then the filter, bounding set, ids, capset, ambient last; execve', () => {
  const { fake, error } = runFinish(ociConfig(extras()));
  assert.is(error, undefined);
  assert.is(fake.end?.how, 'execve');
  const oom = where(fake, (n, a) => n === 'writeFile' && a[0] === '/proc/self/oom_score_adj' && a[1] === '100', 'oom_score_adj');
  const umask = where(fake, (n, a) => n === 'umask' && a[0] === 0o022, 'umask');
  const rl = where(fake, (n, a) => n === 'setrlimit' && a[0] === RLIMIT_NOFILE, 'setrlimit NOFILE');
  assert.equal(fake.calls[rl].args.slice(1, 3), [20000n, 20000n]);
  const seccomp = where(fake, (n) => n === 'loadSeccomp', 'seccomp');
  const bset = where(fake, prctl(PR.CAPBSET_DROP), 'PR_CAPBSET_DROP');
  const keep = where(fake, prctl(PR_SET_KEEPCAPS, 1), 'KEEPCAPS 1');
  const capset = where(fake, (n) => n === 'capSet', 'capset');
  const clear = where(fake, prctl(PR.CAP_AMBIENT, PR.CAP_AMBIENT_CLEAR_ALL), 'ambient clear');
  const raise = where(fake, prctl(PR.CAP_AMBIENT, RAISE), 'ambient raise');
  const order = [oom, umask, rl, seccomp, bset, keep, capset, clear, raise];
  assert.ok(order.every((i, n) => n === 0 || i > order[n - 1]), `order ${order}:\n${fake.trace().join('\n')}`);
  assert.ok(where(fake, (n) => n === 'resetSignals', 'resetSignals') < oom, 'box\'s own set-up first: a small RLIMIT_NOFILE must not starve it');
  assert.is(last(fake, (n, a) => n === 'prctl' && a[0] === PR.CAPBSET_DROP), bset + 40 - DEFAULT_CAPS.length, 'every capability not in the bounding set dropped, in one run');
  assert.not.ok(fake.calls.some((c) => c.name === 'limitCapabilities'), 'the five sets replace box\'s own drop');
  assert.not.ok(fake.calls.some((c) => c.name === 'setIds'), 'root: no ids to change');
  // ambient: only what is permitted and inheritable (SYS_ADMIN is neither): one raise, the last call before execve
  const raises = fake.calls.filter((c) => c.name === 'prctl' && c.args[0] === PR.CAP_AMBIENT && c.args[1] === RAISE);
  assert.equal(raises.map((c) => c.args[2]), [NET_BIND_SERVICE]);
  assert.is(fake.calls[fake.calls.length - 2].name, 'prctl');
  assert.is(fake.calls[fake.calls.length - 1].name, 'execve');
  assert.ok(fake.calls.some((c) => c.name === 'joinNewSessionKeyring'));
  assert.not.ok(fake.calls.some((c, i) => i > keep && c.name === 'prctl' && c.args[0] === PR.SET_PDEATHSIG), 'an OCI container outlives box create: no death signal');
});

test('OCI __init: a non-root user keeps the config\'s sets: ids changed between KEEPCAPS on and off, then capset; only held capabilities kept', () => {
  const x = extras();
  x.capabilities.permitted = [...x.capabilities.permitted, 'CAP_SYS_RESOURCE', 'CAP_NOT_A_CAP'];
  x.capabilities.effective = ['CAP_CHOWN', 'CAP_SYS_ADMIN'];
  const { fake, error } = runFinish(ociConfig(x, { user: NON_ROOT }), (f) => {
    f.caps.permitted &= ~bit(SYS_RESOURCE); // as root here: no CAP_SYS_RESOURCE to give
  });
  assert.is(error, undefined);
  const on = where(fake, prctl(PR_SET_KEEPCAPS, 1), 'KEEPCAPS 1'), ids = where(fake, (n) => n === 'setIds', 'setIds');
  const off = where(fake, prctl(PR_SET_KEEPCAPS, 0), 'KEEPCAPS 0'), capset = where(fake, (n) => n === 'capSet', 'capset');
  assert.ok(where(fake, prctl(PR.CAPBSET_DROP), 'bounding') < on && on < ids && ids < off && off < capset, fake.trace().join('\n'));
  const sets = fake.calls[capset].args[0];
  const defaults = bit(...[0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]);
  assert.is(sets.permitted, defaults, 'SYS_RESOURCE is not held, an unknown name is left out');
  assert.is(sets.effective, bit(CHOWN), 'effective within permitted');
  assert.is(sets.inheritable, bit(NET_BIND_SERVICE));
  assert.ok(fake.calls.some((c) => c.name === 'setNoNewPrivs') === false);
});

test('OCI __init: rlimits never above box\'s hard limit (the error names the limit and both values); infinity; noNewKeyring', () => {
  let r = runFinish(ociConfig(extras({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1048576 }] })));
  assert.instance(r.error, Error);
  assert.is((r.error as Error).message, 'rlimit RLIMIT_NOFILE: hard limit 1048576 asked, above box\'s own hard limit 20000');
  assert.not.ok(r.fake.calls.some((c) => ['setrlimit', 'capSet', 'execve'].includes(c.name)));
  r = runFinish(ociConfig(extras({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 30000, hard: 20000 }] })));
  assert.is((r.error as Error).message, 'rlimit RLIMIT_NOFILE: soft limit 30000 is above its hard limit 20000');
  r = runFinish(ociConfig(extras({ rlimits: [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }] })));
  assert.match((r.error as Error).message, /^rlimit RLIMIT_BOGUS: unknown/);
  // 2^64-1 as JSON arrives as 2^64: RLIM_INFINITY, allowed when box's own is unlimited
  r = runFinish(ociConfig(extras({ rlimits: [{ type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 }], noNewKeyring: true })),
    (f) => f.rlimits.set(4, { soft: 0n, hard: RLIM_INFINITY }));
  assert.is(r.error, undefined);
  assert.equal(r.fake.calls.find((c) => c.name === 'setrlimit')!.args.slice(0, 3), [4, RLIM_INFINITY, RLIM_INFINITY]);
  assert.not.ok(r.fake.calls.some((c) => c.name === 'joinNewSessionKeyring'), 'noNewKeyring: the session keyring is kept');
  r = runFinish(ociConfig(extras({ umask: undefined })));
  assert.equal(r.fake.calls.filter((c) => c.name === 'umask').map((c) => c.args[0]), [0o022], 'no umask in config.json: runc\'s 022');
  r = runFinish(ociConfig(extras()), (f) => { f.script.capSet = () => { throw new Error('capset: EPERM (operation not permitted)'); }; });
  assert.is((r.error as Error).message, 'capabilities: set the effective, permitted and inheritable sets: capset: EPERM (operation not permitted)');
  r = runFinish(ociConfig(extras({ oomScoreAdj: -1000 })), (f) => {
    f.script.writeFile = () => { throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }); };
  });
  assert.is((r.error as Error).message, 'oomScoreAdj -1000: write /proc/self/oom_score_adj: EACCES');
});

test('box\'s own __init path: none of the OCI calls, limitCapabilities then setIds, the death signal set again', () => {
  for (const over of [{}, { user: NON_ROOT, noNewPrivileges: true }] as Partial<ContainerSpec>[]) {
    const fake = new FakeLibc();
    fake.channel.push(stageConfig(over), { start: true });
    fake.install();
    try { stageInit(); } catch (e) { if (!(e instanceof Gone)) throw e; } finally { fake.restore(); }
    assert.is(fake.end?.how, 'execve');
    for (const name of ['capGet', 'capSet', 'getrlimit', 'setrlimit', 'umask', 'setdomainname']) assert.not.ok(fake.calls.some((c) => c.name === name), name);
    assert.not.ok(fake.calls.some((c) => c.name === 'writeFile' && c.args[0] === '/proc/self/oom_score_adj'));
    assert.not.ok(fake.calls.some((c) => c.name === 'prctl' && (c.args[0] === PR_SET_KEEPCAPS || c.args[0] === PR.CAP_AMBIENT || c.args[0] === PR.CAPBSET_DROP)));
    const caps = where(fake, (n) => n === 'limitCapabilities', 'limitCapabilities');
    assert.equal(fake.calls[caps].args[2], { boundingOnly: !!over.user });
    assert.ok(where(fake, (n) => n === 'joinNewSessionKeyring', 'keyring') < caps);
    if (over.user) {
      const ids = where(fake, (n) => n === 'setIds', 'setIds');
      assert.ok(caps < ids && fake.calls.some((c, i) => i > ids && c.name === 'prctl' && c.args[0] === PR.SET_PDEATHSIG));
    }
  }
});

test('OCI __exec --process: the same extras on the exec stage, before its drop; the command spawned after ambient', () => {
  const INODES: Record<string, number> = { ipc: 11, uts: 12, net: 13, pid: 14, cgroup: 15, mnt: 16 };
  const cfg: ExecConfig = {
    pid: 0x7ffffff0, pidStart: '1', namespaces: INODES, owner: { pid: 0x7ffffff0, start: '1', fds: {} }, candidates: '/cand',
    cgroupProcs: CGROUP_PROCS, detach: true, stage: stageConfig(), process: extras({ noNewKeyring: true }),
  };
  const fake = new FakeLibc();
  fake.channel.push(cfg);
  fake.files.set('/cand', '4242\n');
  for (const [n, ino] of Object.entries(INODES)) fake.stats.set(`/proc/4242/ns/${n}`, fakeStats({ ino }));
  fake.rlimits.set(RLIMIT_NPROC, { soft: 63000n, hard: 63000n });
  fake.install();
  try { stageExec(); } catch (e) { if (!(e instanceof Gone)) throw e; } finally { fake.restore(); }
  const oom = where(fake, (n, a) => n === 'writeFile' && a[0] === '/proc/self/oom_score_adj', 'oom'), rl = where(fake, (n) => n === 'setrlimit', 'setrlimit');
  const capset = where(fake, (n) => n === 'capSet', 'capset'), raise = where(fake, prctl(PR.CAP_AMBIENT, RAISE), 'raise'), spawn = where(fake, (n) => n === 'spawn', 'spawn');
  // oom_score_adj before the first setns: the container's /proc has no /proc/self for a process outside its pid namespace
  const firstSetns = where(fake, (n) => n === 'setns', 'setns');
  assert.ok(oom < firstSetns && where(fake, (n, a) => n === 'setns' && a[2] === 'pid', 'setns pid') < rl && rl < capset && capset < raise && raise < spawn, fake.trace().join('\n'));
  assert.not.ok(fake.calls.some((c) => c.name === 'limitCapabilities' || c.name === 'joinNewSessionKeyring'));
});

test.run();
