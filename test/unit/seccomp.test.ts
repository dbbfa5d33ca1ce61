// The seccomp compiler, without a kernel: profiles are resolved and compiled, and the BPF is
// run in an interpreter (lib/seccomp/interpret.ts) on synthetic seccomp_data, then compared with
// (a) a direct evaluation of the resolved rules, on every syscall number and on the edges of
// every comparison, and (b) what Docker's default profile is meant to do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runFilter } from '../../lib/seccomp/interpret';
import { compile, AUDIT_ARCH, X32_SYSCALL_BIT, RET_KILL_PROCESS } from '../../lib/seccomp/compile';
import { resolveProfile, parseProfile, Resolved, Cond, ACTIONS } from '../../lib/seccomp/profile';
import { syscallNumbers } from '../../lib/seccomp/syscalls';
import { dockerDefaultProfile } from '../../lib/seccomp/docker-default';
import { DEFAULT_CAPS } from '../../lib/options/capabilities';
import { SeccompProfile } from '../../lib/seccomp/types';

const ALLOW = ACTIONS.SCMP_ACT_ALLOW, EPERM = 0x00050001, ENOSYS = 0x00050026, KILL = RET_KILL_PROCESS;
const X86_64 = AUDIT_ARCH.SCMP_ARCH_X86_64, I386 = AUDIT_ARCH.SCMP_ARCH_X86, AARCH64 = AUDIT_ARCH.SCMP_ARCH_AARCH64, ARM = AUDIT_ARCH.SCMP_ARCH_ARM;
const KERNEL = '6.18.0';
const nr = (arch: Parameters<typeof syscallNumbers>[0], name: string) => {
  const n = syscallNumbers(arch).get(name);
  if (n === undefined) throw new Error(`${name} not in ${arch}`);
  return n;
};

/** The resolved rules evaluated directly: what the program must compute. */
function reference(r: Resolved, arch: number, n: number, args: bigint[]): number {
  const byArch = (name: string) => r.arches.find((a) => a.arch === name);
  const table = arch === X86_64
    ? byArch(n >>> 0 >= X32_SYSCALL_BIT ? 'SCMP_ARCH_X32' : 'SCMP_ARCH_X86_64') // no x32 section: x32 calls are killed
    : r.arches.find((a) => AUDIT_ARCH[a.arch] === arch && a.arch !== 'SCMP_ARCH_X32');
  if (!table) return KILL;
  for (const c of table.calls.get(n) ?? []) if (c.conds.every((k) => holds(k, args[k.index] ?? 0n))) return c.action;
  return r.defaultAction;
}
function holds(c: Cond, a: bigint): boolean {
  switch (c.op) {
    case 'SCMP_CMP_EQ': return a === c.value;
    case 'SCMP_CMP_NE': return a !== c.value;
    case 'SCMP_CMP_LT': return a < c.value;
    case 'SCMP_CMP_LE': return a <= c.value;
    case 'SCMP_CMP_GT': return a > c.value;
    case 'SCMP_CMP_GE': return a >= c.value;
    case 'SCMP_CMP_MASKED_EQ': return (a & c.value) === c.valueTwo;
  }
}

/** Edge values around the constants of one syscall's comparisons, both halves, plus a few fixed ones. */
function edges(r: Resolved, n: number): bigint[] {
  const out = new Set<bigint>([0n, 1n, 0xffffffffn, 0x100000000n, (1n << 64n) - 1n, 1n << 63n]);
  for (const a of r.arches) for (const c of a.calls.get(n) ?? []) for (const k of c.conds) {
    for (const v of [k.value, k.valueTwo, k.value | k.valueTwo, k.value ^ ((1n << 64n) - 1n)]) {
      for (const d of [-1n, 0n, 1n, 1n << 32n, -(1n << 32n)]) out.add(BigInt.asUintN(64, v + d));
    }
  }
  return [...out];
}

/** Compare program and reference on every known syscall number of every arch, with edge arguments. */
function agree(r: Resolved, archList = [X86_64, I386, AARCH64, ARM]) {
  const prog = compile(r);
  let checked = 0;
  const nrs = new Set<number>([0, 1, 2 ** 31, 2 ** 32 - 1, X32_SYSCALL_BIT - 1, X32_SYSCALL_BIT, 0x3fffffff]);
  for (const a of ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] as const) for (const n of syscallNumbers(a).values()) { nrs.add(n); nrs.add(n + 1); }
  for (const arch of archList) for (const n of nrs) {
    const withConds = r.arches.some((a) => a.calls.get(n)?.some((c) => c.conds.length));
    const argSets: bigint[][] = withConds ? edges(r, n).flatMap((v) => [0, 1, 2, 3, 4, 5].map((i) => Object.assign([0n, 0n, 0n, 0n, 0n, 0n], { [i]: v }))) : [[0n, 0n, 0n, 0n, 0n, 0n]];
    for (const args of argSets) {
      const got = runFilter(prog, { nr: n, arch, args }), want = reference(r, arch, n, args);
      if (got !== want) assert.unreachable(`arch ${arch.toString(16)} nr ${n} args ${args.map((x) => x.toString(16))}: program ${got.toString(16)}, rules ${want.toString(16)}`);
      checked++;
    }
  }
  return checked;
}

const docker = (caps = DEFAULT_CAPS, arch = 'x64') => resolveProfile(dockerDefaultProfile(), { caps, kernel: KERNEL, arch });
const verdict = (r: Resolved, arch: number, n: number, ...args: (number | bigint)[]) => runFilter(compile(r), { nr: n, arch, args });

test('Docker default (x86-64, default caps): program and rules agree on every syscall and argument edge', () => {
  assert.ok(agree(docker()) > 1000);
});
test('Docker default (arm64, default caps) and with CAP_SYS_ADMIN: program and rules agree', () => {
  agree(docker(DEFAULT_CAPS, 'arm64'));
  agree(docker([...DEFAULT_CAPS, 'SYS_ADMIN', 'SYS_PTRACE', 'BPF', 'PERFMON']));
});

test('Docker default: what it allows and refuses on x86-64 (its intent)', () => {
  const r = docker();
  const x = (name: string, ...args: (number | bigint)[]) => verdict(r, X86_64, nr('SCMP_ARCH_X86_64', name), ...args);
  for (const name of ['read', 'write', 'getppid', 'openat', 'execve', 'mmap', 'futex', 'epoll_wait', 'socket', 'capset', 'setresuid', 'close_range', 'rt_sigaction']) assert.is(x(name, 2), ALLOW, name);
  for (const name of ['keyctl', 'add_key', 'request_key', 'perf_event_open', 'userfaultfd', 'io_uring_setup', 'mount', 'umount2', 'pivot_root', 'bpf', 'kexec_load', 'init_module', 'ptrace', 'setns', 'unshare', 'open_by_handle_at', 'reboot']) {
    if (name === 'ptrace') continue; // allowed on kernels ≥ 4.8 (see below)
    assert.is(x(name), EPERM, name);
  }
  assert.is(x('ptrace'), ALLOW, 'ptrace (minKernel 4.8)');
  // clone: allowed unless a namespace flag is set; clone3 → ENOSYS so that libc falls back to clone
  assert.is(x('clone', 0x11 /* SIGCHLD */ | 0x00100000), ALLOW);
  for (const flag of [0x10000000, 0x00020000, 0x40000000, 0x20000000, 0x04000000, 0x08000000, 0x02000000]) assert.is(x('clone', 0x11 | flag), EPERM, `clone ${flag.toString(16)}`);
  assert.is(x('clone3'), ENOSYS);
  // personality: only the listed personas
  for (const p of [0, 8, 0x20000, 0x20008, 0xffffffff]) assert.is(x('personality', p), ALLOW, `personality ${p.toString(16)}`);
  for (const p of [6 /* PER_BSD */, 0x0400000 /* READ_IMPLIES_EXEC */, 0x1_0000_0000n]) assert.is(x('personality', p), EPERM, `personality ${p.toString(16)}`);
  assert.is(x('socket', 2), ALLOW);
  assert.is(x('socket', 40 /* AF_VSOCK */), EPERM);
});

test('Docker default: i386 and x32 calls get the same rules, never a way around them', () => {
  const r = docker();
  const i = (name: string, ...args: (number | bigint)[]) => verdict(r, I386, nr('SCMP_ARCH_X86', name), ...args);
  const x32 = (name: string, ...args: (number | bigint)[]) => verdict(r, X86_64, nr('SCMP_ARCH_X32', name), ...args);
  assert.is(i('getppid'), ALLOW);
  assert.is(i('socketcall', 1), ALLOW);
  for (const name of ['unshare', 'keyctl', 'mount', 'perf_event_open']) { assert.is(i(name), EPERM, `i386 ${name}`); assert.is(x32(name), EPERM, `x32 ${name}`); }
  assert.is(i('clone', 0x10000000), EPERM);
  assert.is(x32('getppid'), ALLOW);
  assert.ok(nr('SCMP_ARCH_X32', 'getppid') >= X32_SYSCALL_BIT);
  // another ABI entirely (arm64's audit arch on this x86 filter): killed
  assert.is(verdict(r, AARCH64, 0), KILL);
  assert.is(verdict(r, 0xdeadbeef, 39), KILL);
});

test('a profile that lists only x86-64: i386 and x32 calls are killed, also when the default is ALLOW', () => {
  const r = resolveProfile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['unshare'], action: 'SCMP_ACT_ERRNO' }] }, { caps: [], kernel: KERNEL, arch: 'x64' });
  assert.is(verdict(r, X86_64, nr('SCMP_ARCH_X86_64', 'unshare')), EPERM);
  assert.is(verdict(r, X86_64, nr('SCMP_ARCH_X86_64', 'getppid')), ALLOW);
  assert.is(verdict(r, X86_64, nr('SCMP_ARCH_X32', 'unshare')), KILL);
  assert.is(verdict(r, X86_64, nr('SCMP_ARCH_X32', 'getppid')), KILL);
  assert.is(verdict(r, I386, nr('SCMP_ARCH_X86', 'unshare')), KILL);
  agree(r);
});

test('Docker default with CAP_SYS_ADMIN: namespaces and mount allowed, as Docker does', () => {
  const r = docker([...DEFAULT_CAPS, 'SYS_ADMIN']);
  const x = (name: string, ...args: (number | bigint)[]) => verdict(r, X86_64, nr('SCMP_ARCH_X86_64', name), ...args);
  assert.is(x('unshare', 0x10000000), ALLOW);
  assert.is(x('clone', 0x10000000), ALLOW);
  assert.is(x('mount'), ALLOW);
  assert.is(x('clone3'), ALLOW);
  assert.is(x('keyctl'), EPERM, 'keyctl is refused whatever the capabilities');
});

test('64-bit comparisons: every operator on both halves, against the rules', () => {
  const big = 0x1_0000_0005n, ops = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
  const names = ['read', 'write', 'close', 'fstat', 'lseek', 'mmap', 'mprotect'];
  const p: SeccompProfile = {
    defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'],
    syscalls: ops.map((op, i) => ({ names: [names[i]], action: 'SCMP_ACT_ALLOW', args: [{ index: i % 6, op, value: op === 'SCMP_CMP_MASKED_EQ' ? 0xffff_0000_ffffn : big, valueTwo: 0x5_0000_0005n }] })),
  };
  const r = resolveProfile(p, { caps: [], kernel: KERNEL, arch: 'x64' });
  agree(r, [X86_64]);
  const x = (name: string, i: number, v: bigint) => verdict(r, X86_64, nr('SCMP_ARCH_X86_64', name), ...Object.assign([0n, 0n, 0n, 0n, 0n, 0n], { [i]: v }));
  // the halves matter: equal lower halves with different upper ones, and the reverse
  assert.is(x('read', 0, 5n), ALLOW, 'NE: differs only above bit 31');
  assert.is(x('read', 0, big), EPERM, 'NE: equal');
  assert.is(x('fstat', 3, 5n), EPERM, 'EQ: same lower half only');
  assert.is(x('fstat', 3, big), ALLOW, 'EQ');
  assert.is(x('write', 1, 0xffffffffn), ALLOW, 'LT: a larger lower half, a smaller upper one');
  assert.is(x('write', 1, 0x1_0000_0006n), EPERM, 'LT');
  assert.is(x('mmap', 5, 0x2_0000_0000n), ALLOW, 'GT: a smaller lower half, a larger upper one');
  assert.is(x('mmap', 5, 0xffffffffn), EPERM, 'GT');
  assert.is(x('close', 2, big), ALLOW, 'LE: equal');
  assert.is(x('lseek', 4, big - 1n), EPERM, 'GE');
  assert.is(x('mprotect', 0, 0x5_1234_0005n), ALLOW, 'MASKED_EQ: bits outside the mask ignored');
  assert.is(x('mprotect', 0, 0x6_0000_0005n), EPERM, 'MASKED_EQ: upper half compared');
});

test('several conditions on one argument are alternatives (runc), on different arguments all must hold', () => {
  const p: SeccompProfile = {
    defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 1 }, { index: 0, op: 'SCMP_CMP_EQ', value: 2 }] },
      { names: ['write'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 1 }, { index: 1, op: 'SCMP_CMP_EQ', value: 2 }] },
    ],
  };
  const r = resolveProfile(p, { caps: [], kernel: KERNEL, arch: 'x64' });
  const x = (name: string, ...a: number[]) => verdict(r, X86_64, nr('SCMP_ARCH_X86_64', name), ...a);
  assert.is(x('read', 1), ALLOW); assert.is(x('read', 2), ALLOW); assert.is(x('read', 3), EPERM);
  assert.is(x('write', 1, 2), ALLOW); assert.is(x('write', 1, 3), EPERM); assert.is(x('write', 2, 2), EPERM);
});

test('long programs: far jumps over big subtrees still land right (hundreds of argument rules)', () => {
  const table = [...syscallNumbers('SCMP_ARCH_X86_64').keys()].slice(0, 250);
  const p: SeccompProfile = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: table.map((name, i) => ({ names: [name], action: i % 2 ? 'SCMP_ACT_ERRNO' : 'SCMP_ACT_KILL_PROCESS', errnoRet: i % 50, args: [{ index: i % 6, op: 'SCMP_CMP_GT', value: i }] })) };
  const r = resolveProfile(p, { caps: [], kernel: KERNEL, arch: 'x64' });
  const prog = compile(r);
  assert.ok(prog.length / 8 > 1000, `${prog.length / 8} instructions`);
  agree(r, [X86_64, I386]);
});

test('actions: each SCMP_ACT_* returns its SECCOMP_RET_* value, errnoRet and defaultErrnoRet honoured', () => {
  const acts = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG', 'SCMP_ACT_ALLOW'] as const;
  const names = ['read', 'write', 'close', 'fstat', 'lseek', 'mmap', 'mprotect'];
  const p: SeccompProfile = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, syscalls: [...acts.map((a, i) => ({ names: [names[i]], action: a })), { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 99 }] };
  const r = resolveProfile(p, { caps: [], kernel: KERNEL, arch: 'x64' });
  const want = [0, 0, 0x80000000, 0x00030000, 0x7ff00001, 0x7ffc0000, 0x7fff0000];
  names.forEach((n, i) => assert.is(verdict(r, X86_64, nr('SCMP_ARCH_X86_64', n)), want[i], acts[i]));
  assert.is(verdict(r, X86_64, nr('SCMP_ARCH_X86_64', 'getppid')), 0x00050000 | 99);
  assert.is(verdict(r, X86_64, nr('SCMP_ARCH_X86_64', 'getpid')), 0x00050000 | 38);
});

test('conditions by capability, architecture and kernel version', () => {
  const p: SeccompProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN', 'CAP_BPF'] } },
      { names: ['write'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['close'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
      { names: ['fstat'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '6.19' } },
      { names: ['lseek'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '4.8' } },
    ],
  };
  const on = (caps: string[]) => resolveProfile(p, { caps, kernel: KERNEL, arch: 'x64' });
  const x = (r: Resolved, name: string) => verdict(r, X86_64, nr('SCMP_ARCH_X86_64', name));
  assert.is(x(on(['SYS_ADMIN']), 'read'), EPERM, 'includes needs every cap');
  assert.is(x(on(['SYS_ADMIN', 'BPF']), 'read'), ALLOW);
  assert.is(x(on([]), 'write'), ALLOW);
  assert.is(x(on(['CAP_SYS_ADMIN']), 'write'), EPERM, 'excludes: any cap');
  assert.is(x(on([]), 'close'), EPERM, 'arm64 only');
  assert.is(x(on([]), 'fstat'), EPERM, 'kernel 6.18 < 6.19');
  assert.is(x(on([]), 'lseek'), EPERM, 'excluded from 4.8 on');
});

test('rules: an unconditional rule wins over argument rules; two different unconditional ones are an error; the default\'s action is dropped', () => {
  const ctx = { caps: [], kernel: KERNEL, arch: 'x64' };
  const r = resolveProfile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [
    { names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 1 }] },
    { names: ['read'], action: 'SCMP_ACT_LOG' },
    { names: ['read'], action: 'SCMP_ACT_ERRNO' },
  ] }, ctx);
  assert.is(verdict(r, X86_64, 0, 1), ACTIONS.SCMP_ACT_LOG);
  assert.throws(() => resolveProfile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['read'], action: 'SCMP_ACT_LOG' }] }, ctx), /syscalls\[0\] and syscalls\[1\] give "read" different actions/);
  assert.throws(() => resolveProfile({ defaultAction: 'SCMP_ACT_NOTIFY' }, ctx), /listenerPath/);
  assert.throws(() => resolveProfile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_AARCH64'] }, ctx), /does not cover this host's SCMP_ARCH_X86_64/);
});

test('profile checks name the field', () => {
  const bad = (p: any, re: RegExp) => assert.throws(() => parseProfile(typeof p === 'string' ? p : JSON.stringify(p)), re);
  bad('{', /not JSON/);
  bad([], /profile: not a JSON object/);
  bad({}, /defaultAction: missing/);
  bad({ defaultAction: 'SCMP_ACT_NOPE' }, /defaultAction: unknown action "SCMP_ACT_NOPE"/);
  bad({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: -1 }, /defaultErrnoRet/);
  bad({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['x86'] }, /architectures\[0\]/);
  bad({ defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_NOPE'] }, /flags\[0\]: unknown flag/);
  bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ action: 'SCMP_ACT_ALLOW' }] }, /syscalls\[0\]\.names: missing/);
  bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'ALLOW' }] }, /syscalls\[0\]\.action: unknown action "ALLOW"/);
  bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, op: 'SCMP_CMP_EQ', value: 1 }] }] }, /syscalls\[0\]\.args\[0\]\.index/);
  bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'EQ', value: 1 }] }] }, /syscalls\[0\]\.args\[0\]\.op: unknown operator "EQ"/);
  bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: -1 }] }] }, /syscalls\[0\]\.args\[0\]\.value/);
  bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: 'new' } }] }, /syscalls\[0\]\.includes\.minKernel/);
  assert.is(parseProfile(JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'read', action: 'SCMP_ACT_ALLOW' }] })).syscalls![0].names[0], 'read');
});

test('Docker default: a program the kernel accepts in size, identical from run to run', () => {
  const a = compile(docker()), b = compile(docker());
  assert.ok(a.equals(b));
  assert.ok(a.length / 8 < 1500, `${a.length / 8} instructions`);
});

test.run();
