import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { syscallNumbers } from '../../lib/seccomp/syscalls';
import { dockerDefaultProfile } from '../../lib/seccomp/docker-default';
import type { SeccompArch, SeccompProfile } from '../../lib/seccomp/types';

const ARCHES: SeccompArch[] = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
const X32 = 0x40000000;

// ---- syscall tables ----

test('known numbers', () => {
  const known: [SeccompArch, string, number][] = [
    ['SCMP_ARCH_X86_64', 'read', 0], ['SCMP_ARCH_X86_64', 'getppid', 110], ['SCMP_ARCH_X86_64', 'clone3', 435],
    ['SCMP_ARCH_X86_64', 'rt_sigaction', 13], ['SCMP_ARCH_X86_64', 'arch_prctl', 158], ['SCMP_ARCH_X86_64', 'mseal', 462],
    ['SCMP_ARCH_X86', 'getppid', 64], ['SCMP_ARCH_X86', 'socketcall', 102], ['SCMP_ARCH_X86', 'socket', 359],
    ['SCMP_ARCH_X86', 'ipc', 117], ['SCMP_ARCH_X86', 'clone3', 435],
    ['SCMP_ARCH_X32', 'read', X32], ['SCMP_ARCH_X32', 'rt_sigaction', X32 + 512], ['SCMP_ARCH_X32', 'getppid', X32 + 110],
    ['SCMP_ARCH_X32', 'ioctl', X32 + 514], ['SCMP_ARCH_X32', 'pwritev2', X32 + 547], ['SCMP_ARCH_X32', 'clone3', X32 + 435],
    ['SCMP_ARCH_AARCH64', 'getppid', 173], ['SCMP_ARCH_AARCH64', 'openat', 56], ['SCMP_ARCH_AARCH64', 'clone3', 435],
    ['SCMP_ARCH_ARM', 'getppid', 64], ['SCMP_ARCH_ARM', 'socket', 281], ['SCMP_ARCH_ARM', 'arm_fadvise64_64', 270],
    ['SCMP_ARCH_ARM', 'breakpoint', 0x0f0001], ['SCMP_ARCH_ARM', 'cacheflush', 0x0f0002], ['SCMP_ARCH_ARM', 'set_tls', 0x0f0005],
  ];
  for (const [arch, name, nr] of known) assert.is(syscallNumbers(arch).get(name), nr, `${arch} ${name}`);
});

test('calls an arch does not have are absent', () => {
  const absent: [SeccompArch, string][] = [
    ['SCMP_ARCH_X86_64', 'socketcall'], ['SCMP_ARCH_X86_64', 'mmap2'],
    ['SCMP_ARCH_X86', 'accept'], ['SCMP_ARCH_X86', 'newfstatat'],
    ['SCMP_ARCH_X32', 'uselib'], ['SCMP_ARCH_X32', 'set_thread_area'],       // "64"-only entries
    ['SCMP_ARCH_AARCH64', 'open'], ['SCMP_ARCH_AARCH64', 'fork'],
    ['SCMP_ARCH_ARM', 'socketcall'], ['SCMP_ARCH_ARM', 'ipc'], ['SCMP_ARCH_ARM', 'time'],  // OABI only
  ];
  for (const [arch, name] of absent) assert.not.ok(syscallNumbers(arch).has(name), `${arch} ${name}`);
});

test('tables: complete, one number per name and per number, parsed once', () => {
  const atLeast: Record<SeccompArch, number> = {
    SCMP_ARCH_X86_64: 380, SCMP_ARCH_X86: 450, SCMP_ARCH_X32: 370, SCMP_ARCH_AARCH64: 320, SCMP_ARCH_ARM: 420,
  };
  for (const arch of ARCHES) {
    const t = syscallNumbers(arch);
    assert.ok(t.size >= atLeast[arch], `${arch}: ${t.size}`);
    assert.is(new Set(t.values()).size, t.size, `${arch}: a number used twice`);
    for (const [name, nr] of t) {
      assert.ok(/^[a-z_][a-z0-9_]*$/.test(name), `${arch}: name ${name}`);
      assert.ok(Number.isInteger(nr) && nr >= 0 && nr <= 0xffffffff, `${arch} ${name}: ${nr}`);
    }
    for (const name of ['listmount', 'statmount', 'lsm_get_self_attr', 'mseal', 'setxattrat', 'getxattrat']) {
      assert.ok(t.has(name), `${arch}: ${name}`);
    }
    assert.is(syscallNumbers(arch), t, 'cached');
  }
  // x32: every number carries the x32 bit; x32's own calls are exactly 512..547
  const x32 = [...syscallNumbers('SCMP_ARCH_X32').values()];
  assert.ok(x32.every((nr) => nr >= X32 && nr < X32 + 1024));
  assert.is(x32.filter((nr) => nr >= X32 + 512 && nr <= X32 + 547).length, 36);
});

// The UAPI headers of the machine's kernel (Linux 6.1 on the build box): every number there
// must be ours too (ours are from a newer kernel, so they have more names).
function headerNumbers(file: string): Map<string, number> | undefined {
  if (!fs.existsSync(file)) return undefined;
  const out = new Map<string, number>();
  for (const m of fs.readFileSync(file, 'utf8').matchAll(/^#define __NR_(\w+)\s+(?:\(__X32_SYSCALL_BIT \+ )?(\d+)\)?\s*$/gm)) {
    out.set(m[1], (m[0].includes('__X32_SYSCALL_BIT') ? X32 : 0) + Number(m[2]));
  }
  return out;
}

test('x86 tables agree with /usr/include/asm/unistd_{64,32,x32}.h where present', () => {
  const dir = '/usr/include/x86_64-linux-gnu/asm';
  const pairs: [SeccompArch, string][] = [
    ['SCMP_ARCH_X86_64', 'unistd_64.h'], ['SCMP_ARCH_X86', 'unistd_32.h'], ['SCMP_ARCH_X32', 'unistd_x32.h'],
  ];
  for (const [arch, file] of pairs) {
    const h = headerNumbers(`${dir}/${file}`);
    if (!h) { console.log(`  (no ${dir}/${file}: not compared)`); continue; }
    assert.ok(h.size > 300, file);
    const t = syscallNumbers(arch);
    for (const [name, nr] of h) assert.is(t.get(name), nr, `${arch} ${name}`);
  }
});

// ---- Docker's default profile ----

const TOKEN: Record<SeccompArch, string> = {
  SCMP_ARCH_X86_64: 'amd64', SCMP_ARCH_X86: 'x86', SCMP_ARCH_X32: 'x32', SCMP_ARCH_AARCH64: 'arm64', SCMP_ARCH_ARM: 'arm',
};

/** The names of the rules an arch's filter would hold (includes/excludes by arch only). */
function profileNames(p: SeccompProfile, arch: SeccompArch): Set<string> {
  const out = new Set<string>();
  for (const r of p.syscalls ?? []) {
    if (r.includes?.arches && !r.includes.arches.includes(TOKEN[arch])) continue;
    if (r.excludes?.arches && r.excludes.arches.includes(TOKEN[arch])) continue;
    for (const n of r.names) out.add(n);
  }
  return out;
}

const missing = (p: SeccompProfile, arches: SeccompArch[]): string[] =>
  [...profileNames(p, arches[0])].filter((n) => arches.every((a) => !syscallNumbers(a).has(n))).sort();

test('profile names: each x86 name is in an x86 table, each arm name in an arm table, but for these', () => {
  const p = dockerDefaultProfile();
  // recv and send exist on arm (and others), not on x86; riscv_hwprobe is riscv64's
  assert.equal(missing(p, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']), ['recv', 'riscv_hwprobe', 'send']);
  // x86-only calls (iopl, ioperm, *_thread_area, *_old epoll, …), calls that 32-bit ARM has only
  // for OABI (alarm, time, utime, select, umount, stime, ipc, socketcall), riscv64's and ppc's
  assert.equal(missing(p, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']), [
    'alarm', 'epoll_ctl_old', 'epoll_wait_old', 'fadvise64_64', 'get_thread_area', 'ioperm', 'iopl', 'ipc', 'riscv_hwprobe',
    'select', 'set_thread_area', 'socketcall', 'stime', 'sync_file_range2', 'time', 'umount', 'uretprobe', 'utime', 'waitpid',
  ]);
  // a name missing from one arch's table is another arch's (32-bit only, 64-bit only, …), or of
  // an arch box has no table for: riscv_hwprobe (riscv64), sync_file_range2 (ppc; on arm only an
  // alias of arm_sync_file_range in the UAPI header, which libseccomp does not resolve either)
  const all = new Set(ARCHES.flatMap((a) => [...syscallNumbers(a).keys()]));
  for (const arch of ARCHES) {
    for (const n of missing(p, [arch])) {
      assert.ok(all.has(n) || n === 'riscv_hwprobe' || n === 'sync_file_range2', `${arch}: ${n} is in no table`);
    }
  }
  assert.equal(missing(p, ['SCMP_ARCH_X86']), [
    'accept', 'epoll_ctl_old', 'epoll_wait_old', 'newfstatat', 'recv', 'riscv_hwprobe', 'semop', 'semtimedop', 'send', 'uretprobe',
  ]);
  assert.equal(missing(p, ['SCMP_ARCH_ARM']), [
    'alarm', 'epoll_ctl_old', 'epoll_wait_old', 'fadvise64', 'fadvise64_64', 'get_thread_area', 'getrlimit', 'ioperm', 'iopl',
    'ipc', 'memfd_secret', 'mmap', 'newfstatat', 'riscv_hwprobe', 'select', 'set_thread_area', 'socketcall', 'stime',
    'sync_file_range', 'sync_file_range2', 'time', 'umount', 'uretprobe', 'utime', 'waitpid',
  ]);
});

test('profile: shape, and a fresh object per call', () => {
  const p = dockerDefaultProfile();
  assert.is(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.is(p.defaultErrnoRet, 1);
  assert.is(p.archMap?.length, 9);
  assert.equal(p.archMap?.[0], { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] });
  assert.is(p.syscalls?.length, 33);
  const allow = p.syscalls![0];
  assert.is(allow.action, 'SCMP_ACT_ALLOW');
  assert.is(allow.names.length, 361);
  assert.is(new Set(allow.names).size, 361);
  for (const r of p.syscalls!) {
    for (const a of r.args ?? []) assert.ok(Number.isSafeInteger(a.value), `${r.names} ${a.value}`);
  }
  p.syscalls!.length = 0;
  p.archMap![0].subArchitectures.push('SCMP_ARCH_ARM');
  const q = dockerDefaultProfile();
  assert.is(q.syscalls?.length, 33);
  assert.is(q.archMap?.[0].subArchitectures.length, 2);
});

/** JSON with object keys sorted, and null subArchitectures as [] (types.ts has no null there). */
function canonical(v: unknown): string {
  const norm = (x: any): any => {
    if (Array.isArray(x)) return x.map(norm);
    if (x && typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) o[k] = k === 'subArchitectures' && x[k] === null ? [] : norm(x[k]);
      return o;
    }
    return x;
  };
  return JSON.stringify(norm(v));
}

// sha256 of canonical() of moby/profiles seccomp/default.json at seccomp/v0.2.3
const MOBY_DEFAULT_SHA256 = 'cd371612957278bcd6bbc6b4ac95860618db70550609491a8f1a2debd0384036';

test('profile equals moby/profiles seccomp/default.json (v0.2.3)', () => {
  const mine = canonical(JSON.parse(JSON.stringify(dockerDefaultProfile())));
  assert.is(createHash('sha256').update(mine).digest('hex'), MOBY_DEFAULT_SHA256);
  // With moby's file at hand (not in the repo), compare it directly: SECCOMP_DEFAULT_JSON=path
  const file = process.env.SECCOMP_DEFAULT_JSON;
  if (file) assert.fixture(mine, canonical(JSON.parse(fs.readFileSync(file, 'utf8'))));
});

test.run();
