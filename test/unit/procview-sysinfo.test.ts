// sysinfo's view (lib/procview/sysinfo.ts): struct sysinfo's bytes for both ABIs (offsets as
// include/uapi/linux/sysinfo.h gives them: the 64-bit ones checked with cc's offsetof on this
// host), the figures from fixture cgroup files, and the sysinfo filter's decisions run
// through box's BPF interpreter (lib/seccomp/interpret.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeSysinfo, containerSysinfo, hostSysinfo, SysinfoValues, SYSINFO_SIZE } from '../../lib/procview/sysinfo';
import { sysinfoAbi } from '../../lib/procview/sysinfo-handler';
import { sysinfoFilter, sysinfoNumbers, RET_USER_NOTIF, RET_ALLOW } from '../../lib/seccomp/sysinfo-filter';
import { runFilter } from '../../lib/seccomp/interpret';
import { AUDIT_ARCH, X32_SYSCALL_BIT } from '../../lib/seccomp/compile';
import { parseKv, parseMeminfo } from '../../lib/procview/parse';
import { meminfo, MemInput } from '../../lib/procview/meminfo';

const fx = (f: string) => fs.readFileSync(path.join(__dirname, '../fixtures/procview', f), 'utf8');
const HOST = fx('host-meminfo');
const MiB = 1024 * 1024;
const hostV = hostSysinfo(HOST, '12345.67 20000.00\n', '0.50 0.25 0.10 2/345 6789\n');

const v: SysinfoValues = { uptime: 42.2, loads: [1, 0.5, 0.25], totalram: 256 * MiB, freeram: 100 * MiB, sharedram: 3 * MiB, bufferram: 0, totalswap: 8 * MiB, freeswap: 7 * MiB, procs: 7 };

test('64-bit layout (x86_64, x32, arm64): 112 bytes, longs at 8-byte offsets, procs at 80, mem_unit 1 at 104', () => {
  const b = encodeSysinfo(v, '64');
  assert.is(b.length, 112);
  assert.is(SYSINFO_SIZE['64'], 112);
  assert.is(b.readBigInt64LE(0), 43n, 'uptime rounded up, as the kernel does');
  assert.equal([8, 16, 24].map((o) => b.readBigUInt64LE(o)), [65536n, 32768n, 16384n], 'loads scaled by 1 << SI_LOAD_SHIFT');
  assert.equal([32, 40, 48, 56, 64, 72].map((o) => Number(b.readBigUInt64LE(o))), [256 * MiB, 100 * MiB, 3 * MiB, 0, 8 * MiB, 7 * MiB]);
  assert.is(b.readUInt16LE(80), 7);
  assert.is(b.readBigUInt64LE(88), 0n, 'totalhigh');
  assert.is(b.readBigUInt64LE(96), 0n, 'freehigh');
  assert.is(b.readUInt32LE(104), 1);
});

test('32-bit layout (i386, arm: compat_sysinfo): 64 bytes; figures above 4 GiB are counted in pages, as the kernel does', () => {
  const b = encodeSysinfo(v, '32');
  assert.is(b.length, 64);
  assert.is(b.readInt32LE(0), 43);
  assert.equal([4, 8, 12].map((o) => b.readUInt32LE(o)), [65536, 32768, 16384]);
  assert.equal([16, 20, 24, 28, 32, 36].map((o) => b.readUInt32LE(o)), [256 * MiB, 100 * MiB, 3 * MiB, 0, 8 * MiB, 7 * MiB]);
  assert.is(b.readUInt16LE(40), 7);
  assert.is(b.readUInt32LE(52), 1);
  const big = encodeSysinfo({ ...v, totalram: 24 * 1024 * MiB, freeram: 5 * 1024 * MiB }, '32');
  assert.is(big.readUInt32LE(52), 4096, 'mem_unit a page');
  assert.is(big.readUInt32LE(16), 24 * 256 * 1024, 'totalram in pages');
  assert.is(big.readUInt32LE(20), 5 * 256 * 1024);
});

test('procs saturates at 65535 (a u16); negative figures are 0', () => {
  assert.is(encodeSysinfo({ ...v, procs: 70000 }, '64').readUInt16LE(80), 65535);
  assert.is(encodeSysinfo({ ...v, freeram: -5 }, '64').readBigUInt64LE(40), 0n);
});

test('the host\'s figures from /proc: MemTotal, MemFree, Shmem, Buffers, swap; procs from loadavg\'s total', () => {
  const h = parseMeminfo(HOST);
  assert.is(hostV.totalram, h.get('MemTotal')! * 1024);
  assert.is(hostV.freeram, h.get('MemFree')! * 1024);
  assert.is(hostV.sharedram, h.get('Shmem')! * 1024);
  assert.is(hostV.bufferram, h.get('Buffers')! * 1024);
  assert.is(hostV.procs, 345);
  assert.equal(hostV.loads, [0.5, 0.25, 0.1]);
  assert.is(hostV.uptime, 12345.67);
});

const v1 = (over: Partial<MemInput> = {}): MemInput => {
  const stat = parseKv(fx('v1-memory.stat'));
  return { v2: false, stat, usage: 100 * MiB, limit: stat.get('hierarchical_memory_limit'), ...over };
};
const v2 = (over: Partial<MemInput> = {}): MemInput => ({ v2: true, stat: parseKv(fx('v2-memory.stat')), usage: 170 * MiB, limit: 256 * MiB, ...over });

test('v1 cgroup: totalram the limit, freeram = limit − usage (meminfo\'s MemFree), sharedram its Shmem, bufferram 0; procs, loads, uptime the container\'s', () => {
  const s = containerSysinfo(hostV, v1(), { procs: 3, loads: [0.2, 0.1, 0], uptime: 5 });
  const m = parseMeminfo(meminfo(HOST, v1()));
  assert.is(s.totalram, 256 * MiB);
  assert.is(s.freeram, 156 * MiB);
  assert.is(s.totalram / 1024, m.get('MemTotal'));
  assert.is(s.freeram / 1024, m.get('MemFree'));
  assert.is(Math.floor(s.sharedram / 1024), m.get('Shmem'));
  assert.is(s.bufferram, 0);
  assert.is(s.procs, 3);
  assert.equal(s.loads, [0.2, 0.1, 0]);
  assert.is(s.uptime, 5);
});

test('v2 cgroup: the same from v2\'s files; usage above the limit gives freeram 0', () => {
  const s = containerSysinfo(hostV, v2(), {});
  assert.is(s.totalram, 256 * MiB);
  assert.is(s.freeram, 86 * MiB);
  assert.is(s.sharedram, parseKv(fx('v2-memory.stat')).get('shmem'));
  assert.is(s.procs, hostV.procs, 'no task count: the host\'s');
  assert.is(containerSysinfo(hostV, v2({ usage: 300 * MiB }), {}).freeram, 0);
});

test('swap: as meminfo\'s Swap lines (host without swap: 0; v2 swap.max bounds it)', () => {
  const noSwap = { ...hostV, totalswap: 0, freeswap: 0 };
  assert.is(containerSysinfo(noSwap, v2({ swapLimit: 64 * MiB }), {}).totalswap, 0);
  const withSwap = { ...hostV, totalswap: 1024 * MiB, freeswap: 1024 * MiB };
  const s = containerSysinfo(withSwap, v2({ swapLimit: 64 * MiB, swapUsage: 16 * MiB }), {});
  assert.is(s.totalswap, 64 * MiB);
  assert.is(s.freeswap, 48 * MiB);
});

test('no limit, or one above the host\'s RAM: the host\'s memory figures (the container\'s procs and uptime still)', () => {
  const s = containerSysinfo(hostV, v1({ limit: undefined }), { procs: 2, uptime: 1 });
  assert.is(s.totalram, hostV.totalram);
  assert.is(s.freeram, hostV.freeram);
  assert.is(s.procs, 2);
  assert.is(containerSysinfo(hostV, v2({ limit: hostV.totalram * 2 }), {}).totalram, hostV.totalram);
});

test('the filter: sysinfo of every ABI notifies, everything else (and other arches) is allowed', () => {
  for (const machine of ['x64', 'arm64'] as const) {
    const prog = sysinfoFilter(machine);
    for (const e of sysinfoNumbers(machine)) {
      assert.is(runFilter(prog, { nr: e.nr, arch: e.audit }), RET_USER_NOTIF, `${machine} ${e.arch}`);
      assert.is(runFilter(prog, { nr: e.nr + 1, arch: e.audit }), RET_ALLOW);
    }
  }
  const x64 = sysinfoFilter('x64');
  assert.is(runFilter(x64, { nr: 99, arch: AUDIT_ARCH.SCMP_ARCH_X86_64 }), RET_USER_NOTIF);
  assert.is(runFilter(x64, { nr: 99 | X32_SYSCALL_BIT, arch: AUDIT_ARCH.SCMP_ARCH_X86_64 }), RET_USER_NOTIF, 'x32');
  assert.is(runFilter(x64, { nr: 116, arch: AUDIT_ARCH.SCMP_ARCH_X86 }), RET_USER_NOTIF, 'i386');
  assert.is(runFilter(x64, { nr: 116, arch: AUDIT_ARCH.SCMP_ARCH_X86_64 }), RET_ALLOW, 'x86_64 116 is setgroups');
  assert.is(runFilter(x64, { nr: 99, arch: AUDIT_ARCH.SCMP_ARCH_X86 }), RET_ALLOW, 'i386 99 is statfs');
  assert.is(runFilter(sysinfoFilter('arm64'), { nr: 179, arch: AUDIT_ARCH.SCMP_ARCH_AARCH64 }), RET_USER_NOTIF);
});

test('the handler\'s ABI choice: 64-bit layout for x86_64 and x32, 32-bit for i386; other calls are not sysinfo', () => {
  assert.is(sysinfoAbi(AUDIT_ARCH.SCMP_ARCH_X86_64, 99, 'x64'), '64');
  assert.is(sysinfoAbi(AUDIT_ARCH.SCMP_ARCH_X86_64, 99 | X32_SYSCALL_BIT, 'x64'), '64');
  assert.is(sysinfoAbi(AUDIT_ARCH.SCMP_ARCH_X86, 116, 'x64'), '32');
  assert.is(sysinfoAbi(AUDIT_ARCH.SCMP_ARCH_X86_64, 39, 'x64'), undefined);
  assert.is(sysinfoAbi(AUDIT_ARCH.SCMP_ARCH_AARCH64, 179, 'arm64'), '64');
  assert.is(sysinfoAbi(AUDIT_ARCH.SCMP_ARCH_ARM, 116, 'arm64'), '32');
});

test.run();
