// The filter that sends a container's sysinfo(2) to the supervisor (lib/procview/
// sysinfo-handler.ts): `sysinfo → SECCOMP_RET_USER_NOTIF`, everything else ALLOW, loaded with
// SECCOMP_FILTER_FLAG_NEW_LISTENER *before* box's main filter (lib/seccomp's compiled profile).
//
// Why a separate small filter and not a rule added to the compiled profile:
// - Filters stack, and the kernel takes the most restrictive action of all of them
//   (KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > USER_NOTIF > TRACE > LOG > ALLOW), so a
//   profile that denies or kills sysinfo still does; one that allows it gets the view. The
//   profile's compiled program, its hash and its cache stay exactly what they were.
// - Equal actions: the newest filter's wins (seccomp_run_filters keeps the first of equals,
//   walking newest to oldest), so a user's profile that notifies sysinfo itself reaches the
//   user's agent, not box's handler.
// - A task may hold only one listener in its filter chain (the kernel refuses a second
//   NEW_LISTENER with EBUSY): a container whose profile has SCMP_ACT_NOTIFY (OCI listenerPath)
//   cannot have this filter too — the wiring skips the view for it.
// Cost: one more filter run per syscall, 8–13 instructions.
import { seccompActionAvailable, SECCOMP_FILTER_FLAG_NEW_LISTENER } from '../libc/seccomp';
import { AUDIT_ARCH, OPCODES } from './compile';
import { syscallNumbers } from './syscalls';
import { SeccompArch } from './types';

export const RET_USER_NOTIF = 0x7fc00000;
export const RET_ALLOW = 0x7fff0000;
export { SECCOMP_FILTER_FLAG_NEW_LISTENER };

/** Every ABI a process on this machine can call with: the native one and its compat views (x32 is x86-64's arch with bit 30 in nr). */
const ABIS: Record<string, SeccompArch[]> = { x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86'], arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] };

/** sysinfo's number per ABI, as box's tables have them: x86_64 99, x32 99|bit 30, i386 116, aarch64 179, arm 116. */
export function sysinfoNumbers(arch = process.arch): { arch: SeccompArch; audit: number; nr: number }[] {
  return (ABIS[arch] ?? []).map((a) => ({ arch: a, audit: AUDIT_ARCH[a], nr: syscallNumbers(a).get('sysinfo')! }));
}

/** The program (struct sock_filter[] bytes): per ABI `arch == A && nr == N → USER_NOTIF`; else ALLOW. */
export function sysinfoFilter(arch = process.arch): Buffer {
  const { LD_W_ABS, JEQ_K, RET_K } = OPCODES;
  const prog: [number, number, number, number][] = [];
  const entries = sysinfoNumbers(arch);
  if (!entries.length) throw new Error(`no sysinfo filter for ${arch}`);
  for (const e of entries) {
    // ld arch; jeq audit ? next : skip 3; ld nr; jeq nr ? notify : skip 1 (back to the next ABI's test); ret notify
    prog.push([LD_W_ABS, 0, 0, 4], [JEQ_K, 0, 3, e.audit], [LD_W_ABS, 0, 0, 0], [JEQ_K, 0, 1, e.nr >>> 0], [RET_K, 0, 0, RET_USER_NOTIF]);
  }
  prog.push([RET_K, 0, 0, RET_ALLOW]);
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach(([code, jt, jf, k], i) => { buf.writeUInt16LE(code, i * 8); buf[i * 8 + 2] = jt; buf[i * 8 + 3] = jf; buf.writeUInt32LE(k >>> 0, i * 8 + 4); });
  return buf;
}

/**
 * Whether this kernel can run the view (USER_NOTIF: 5.0). For `box info`. The handler's
 * CONTINUE (5.5) is needed only for calls this filter never sends; on 5.0–5.4 those are
 * answered ENOSYS.
 */
export function sysinfoViewSupport(): { ok: boolean; why: string } {
  try {
    return seccompActionAvailable(RET_USER_NOTIF) ? { ok: true, why: 'seccomp user notification' } : { ok: false, why: 'the kernel has no SECCOMP_RET_USER_NOTIF (5.0+)' };
  } catch (e: any) {
    return { ok: false, why: `seccomp: ${e.message}` };
  }
}
