// A seccomp profile checked field by field, then resolved for one container: Docker's
// conditions (`includes`/`excludes` by capability, architecture, kernel) decided against the
// container's capabilities and this host, names turned into numbers per architecture, and the
// rules of each syscall put in the order the filter tries them. Pure: the compiler
// (./compile.ts) turns the result into BPF; nothing here touches the kernel.
import { SeccompProfile, SeccompRule, SeccompArg, SeccompArch, SeccompAction, SeccompOp } from './types';
import { syscallNumbers } from './syscalls';

export const ACTIONS: Record<SeccompAction, number> = {
  SCMP_ACT_KILL: 0x00000000,          // SECCOMP_RET_KILL_THREAD (libseccomp's KILL)
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,         // | errno
  SCMP_ACT_NOTIFY: 0x7fc00000,        // SECCOMP_RET_USER_NOTIF
  SCMP_ACT_TRACE: 0x7ff00000,         // | message for the tracer
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
};
const OPS: SeccompOp[] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
const ARCHES: SeccompArch[] = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
export const FILTER_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 0,                // box's filter is installed by the thread that execs: the others end at execve
  SECCOMP_FILTER_FLAG_LOG: 1 << 1,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 1 << 2,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 1 << 5,
};
const EPERM = 1;
const MAX_ERRNO = 4095;

/** The calling host's architecture as libseccomp names it, and as Docker's `arches` filters do. */
export function nativeArch(arch: string = process.arch): { token: SeccompArch; docker: string } {
  if (arch === 'x64') return { token: 'SCMP_ARCH_X86_64', docker: 'amd64' };
  if (arch === 'arm64') return { token: 'SCMP_ARCH_AARCH64', docker: 'arm64' };
  throw new Error(`seccomp: no syscall table for ${arch}`);
}

export class ProfileError extends Error {}

/** Parse and check a profile file's text; errors name the field (`syscalls[3].args[0].op`). */
export function parseProfile(text: string): SeccompProfile {
  let p: any;
  try {
    p = JSON.parse(text);
  } catch (e: any) {
    throw new ProfileError(`not JSON: ${e.message}`);
  }
  checkProfile(p);
  return p;
}

export function checkProfile(p: any): asserts p is SeccompProfile {
  const fail = (field: string, what: string) => { throw new ProfileError(`${field}: ${what}`); };
  if (typeof p !== 'object' || p === null || Array.isArray(p)) fail('profile', 'not a JSON object');
  const action = (v: any, field: string) => { if (!(v in ACTIONS)) fail(field, `unknown action ${JSON.stringify(v)}`); };
  const errno = (v: any, field: string) => {
    if (v !== undefined && v !== null && !(Number.isInteger(v) && v >= 0 && v <= MAX_ERRNO)) fail(field, `not an errno (0..${MAX_ERRNO}): ${JSON.stringify(v)}`);
  };
  const strings = (v: any, field: string) => { if (v !== undefined && v !== null && !(Array.isArray(v) && v.every((s) => typeof s === 'string'))) fail(field, 'not a list of strings'); };
  if (p.defaultAction === undefined) fail('defaultAction', 'missing');
  action(p.defaultAction, 'defaultAction');
  errno(p.defaultErrnoRet, 'defaultErrnoRet');
  strings(p.architectures, 'architectures');
  for (const [i, a] of (p.architectures ?? []).entries()) if (!/^SCMP_ARCH_[A-Z0-9_]+$/.test(a)) fail(`architectures[${i}]`, `not an architecture: ${JSON.stringify(a)}`);
  if (p.archMap != null && !Array.isArray(p.archMap)) fail('archMap', 'not a list');
  for (const [i, m] of (p.archMap ?? []).entries()) {
    if (typeof m?.architecture !== 'string') fail(`archMap[${i}].architecture`, 'missing');
    strings(m.subArchitectures, `archMap[${i}].subArchitectures`);
  }
  strings(p.flags, 'flags');
  for (const [i, f] of (p.flags ?? []).entries()) if (!(f in FILTER_FLAGS)) fail(`flags[${i}]`, `unknown flag ${JSON.stringify(f)}`);
  if (p.listenerPath != null && (typeof p.listenerPath !== 'string' || !p.listenerPath.startsWith('/'))) fail('listenerPath', 'not an absolute path');
  if (p.syscalls != null && !Array.isArray(p.syscalls)) fail('syscalls', 'not a list');
  for (const [i, r] of (p.syscalls ?? []).entries()) {
    const at = `syscalls[${i}]`;
    if (typeof r !== 'object' || r === null) fail(at, 'not an object');
    if (r.names === undefined && typeof r.name === 'string') r.names = [r.name]; // Docker's older one-name form
    strings(r.names, `${at}.names`);
    if (!r.names?.length) fail(`${at}.names`, 'missing');
    action(r.action, `${at}.action`);
    errno(r.errnoRet, `${at}.errnoRet`);
    if (r.args != null && !Array.isArray(r.args)) fail(`${at}.args`, 'not a list');
    for (const [j, a] of (r.args ?? []).entries()) {
      const af = `${at}.args[${j}]`;
      if (!Number.isInteger(a?.index) || a.index < 0 || a.index > 5) fail(`${af}.index`, `not 0..5: ${JSON.stringify(a?.index)}`);
      if (!OPS.includes(a.op)) fail(`${af}.op`, `unknown operator ${JSON.stringify(a.op)}`);
      for (const k of ['value', 'valueTwo'] as const) {
        const v = a[k];
        if (v === undefined && k === 'valueTwo') continue;
        if (!(typeof v === 'bigint' ? v >= 0n && v < 1n << 64n : Number.isSafeInteger(v) && v >= 0)) fail(`${af}.${k}`, `not an unsigned 64-bit integer below 2^53: ${JSON.stringify(String(v))}`);
      }
    }
    for (const k of ['includes', 'excludes'] as const) {
      const f = r[k];
      if (f == null) continue;
      strings(f.caps, `${at}.${k}.caps`);
      strings(f.arches, `${at}.${k}.arches`);
      if (f.minKernel != null && !/^\d+\.\d+/.test(f.minKernel)) fail(`${at}.${k}.minKernel`, `not a kernel version: ${JSON.stringify(f.minKernel)}`);
    }
  }
}

/** One comparison as the filter makes it: 64-bit values, split into halves by the compiler. */
export interface Cond { index: number; op: SeccompOp; value: bigint; valueTwo: bigint }
/** One rule for one syscall number: all conditions must hold (none: always). */
export interface Check { conds: Cond[]; action: number }
/** The filter for one architecture: per syscall number, its checks in order; otherwise the default. */
export interface ArchFilter { arch: SeccompArch; calls: Map<number, Check[]> }
export interface Resolved { defaultAction: number; arches: ArchFilter[]; flags: number; notify: boolean; listenerPath?: string; listenerMetadata?: string }

export interface Context {
  caps: string[];          // the container's capabilities (with or without CAP_)
  kernel: string;          // uname release, e.g. "6.18.4-..."
  arch?: string;           // process.arch
  /**
   * An OCI config's profile comes resolved by the engine, and podman's lists a call in its
   * allow-all group and again, refused, in a group for containers without a capability
   * (setns without CAP_SYS_ADMIN): there the refusal is meant. With `denyWins`, of two
   * unconditional rules with different actions the one that is not SCMP_ACT_ALLOW decides
   * (of two refusals, the later); without it, that is an error in the profile.
   */
  denyWins?: boolean;
}

/**
 * Resolve for one container. Semantics, chosen to match what Docker users get from runc:
 *  - architectures: `archMap`'s entry for this host plus its sub-architectures, else
 *    `architectures`, else this host's alone; calls from any other ABI kill the process.
 *  - a rule applies when its `includes` all hold (every cap held, this arch listed, kernel at
 *    least minKernel) and no `excludes` does (any cap held, arch listed, kernel at least).
 *  - a rule whose action is the default's is dropped (runc does; libseccomp refuses it).
 *  - a syscall with a rule without arguments takes that rule's action; two such rules with
 *    different actions are an error. Rules with arguments are tried in profile order and the
 *    first whose conditions all hold decides; conditions on the same argument index in one
 *    rule mean "any of them" (runc splits such a rule into one rule per condition).
 *  - names this architecture does not have are skipped (as runc does).
 */
export function resolveProfile(p: SeccompProfile, ctx: Context): Resolved {
  const native = nativeArch(ctx.arch);
  const caps = new Set(ctx.caps.map((c) => 'CAP_' + c.toUpperCase().replace(/^CAP_/, '')));
  const kernel = version(ctx.kernel);
  const defaultAction = actionValue(p.defaultAction, p.defaultErrnoRet);
  const arches = chooseArches(p, native.token);
  let notify = p.defaultAction === 'SCMP_ACT_NOTIFY';

  const byArch = arches.map((arch) => ({ arch, calls: new Map<number, Check[]>() }));
  const uncond = new Map<string, number>(); // `${arch}:${nr}` → index of the rule that set it, for the conflict message
  for (const [i, r] of (p.syscalls ?? []).entries()) {
    if (!applies(r, caps, native.docker, native.token, kernel)) continue;
    const action = actionValue(r.action, r.errnoRet);
    if (action === defaultAction) continue;
    if (r.action === 'SCMP_ACT_NOTIFY') notify = true;
    const checks = splitConditions(r.args ?? []).map((conds) => ({ conds, action }));
    for (const f of byArch) {
      const table = syscallNumbers(f.arch);
      for (const name of r.names) {
        const nr = table.get(name);
        if (nr === undefined) continue;
        const list = f.calls.get(nr) ?? [];
        const always = list.find((c) => !c.conds.length);
        if (always) {
          if (!checks[0].conds.length && always.action !== action && ctx.denyWins) {
            // a fresh entry: `always` is shared with every other name of its rule
            if (action !== ACTIONS.SCMP_ACT_ALLOW) { f.calls.set(nr, [{ conds: [], action }]); uncond.set(`${f.arch}:${nr}`, i); }
            continue;
          }
          if (!checks[0].conds.length && always.action !== action) {
            throw new ProfileError(`syscalls[${uncond.get(`${f.arch}:${nr}`)}] and syscalls[${i}] give "${name}" different actions`);
          }
          continue; // an unconditional rule decides already
        }
        if (!checks[0].conds.length) { f.calls.set(nr, checks); uncond.set(`${f.arch}:${nr}`, i); } else f.calls.set(nr, [...list, ...checks]);
      }
    }
  }
  if (notify && !p.listenerPath) throw new ProfileError('SCMP_ACT_NOTIFY needs listenerPath: the process that answers the notifications');
  const flags = (p.flags ?? []).reduce((a, f) => a | FILTER_FLAGS[f], 0);
  return { defaultAction, arches: byArch, flags, notify, listenerPath: p.listenerPath, listenerMetadata: p.listenerMetadata };
}

export function actionValue(action: SeccompAction, errnoRet?: number | null): number {
  const base = ACTIONS[action];
  if (action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE') return (base | (errnoRet ?? EPERM)) >>> 0;
  return base;
}

function chooseArches(p: SeccompProfile, native: SeccompArch): SeccompArch[] {
  let list: string[] = p.architectures?.length ? p.architectures : [native];
  const entry = p.archMap?.find((m) => m.architecture === native);
  if (p.archMap?.length) list = entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : [native];
  // Architectures this host cannot run (mips on x86) can never reach the filter: left out.
  const known = [...new Set(list)].filter((a): a is SeccompArch => ARCHES.includes(a as SeccompArch));
  const family = native === 'SCMP_ARCH_X86_64' ? ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] : ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
  const arches = known.filter((a) => family.includes(a));
  if (!arches.includes(native)) throw new ProfileError(`architectures: the profile does not cover this host's ${native}`);
  return [native, ...arches.filter((a) => a !== native)];
}

function applies(r: SeccompRule, caps: Set<string>, dockerArch: string, token: string, kernel: number[]): boolean {
  const archIn = (list?: string[]) => !!list?.some((a) => a === dockerArch || a === token);
  const capName = (c: string) => 'CAP_' + c.toUpperCase().replace(/^CAP_/, '');
  const inc = r.includes, exc = r.excludes;
  if (inc?.caps?.length && !inc.caps.every((c) => caps.has(capName(c)))) return false;
  if (inc?.arches?.length && !archIn(inc.arches)) return false;
  if (inc?.minKernel && compare(kernel, version(inc.minKernel)) < 0) return false;
  if (exc?.caps?.some((c) => caps.has(capName(c)))) return false;
  if (exc?.arches?.length && archIn(exc.arches)) return false;
  if (exc?.minKernel && compare(kernel, version(exc.minKernel)) >= 0) return false;
  return true;
}

/** runc's rule: several conditions on one argument index → one rule per condition (OR). */
function splitConditions(args: SeccompArg[]): Cond[][] {
  const conds = args.map((a) => ({ index: a.index, op: a.op, value: BigInt(a.value), valueTwo: BigInt(a.valueTwo ?? 0) }));
  const indexes = new Set(conds.map((c) => c.index));
  return indexes.size < conds.length ? conds.map((c) => [c]) : [conds];
}

function version(s: string): number[] {
  const m = /^(\d+)\.(\d+)/.exec(s);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}
const compare = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1];
