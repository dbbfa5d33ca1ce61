// A resolved seccomp profile (./profile.ts) → a classic BPF program for
// seccomp(SECCOMP_SET_MODE_FILTER). The kernel runs it on every system call with a
// `struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }`.
// Shape of the program:
//   load arch → one section per architecture the profile covers, any other ABI is killed
//   (on x86-64 the i386 `int 0x80` entry arrives with AUDIT_ARCH_I386, and x32 calls with
//   AUDIT_ARCH_X86_64 and bit 30 of nr set: both get their own tables or are killed);
//   in a section: load nr → a binary search over ranges of syscall numbers (adjacent numbers
//   with the same plain action form one range; runs of the default action too), so a call
//   costs ~log2(ranges) jumps instead of a walk through ~400 comparisons; a range leaf
//   returns its action, a syscall with argument rules tests them in order and falls back to
//   the default. Arguments are 64-bit: the upper and lower halves are compared separately.
// Pure and deterministic: the same resolved profile gives the same bytes (the cache key).
import { Resolved, Check, Cond, ProfileError } from './profile';
import { SeccompArch } from './types';

// classic BPF (linux/filter.h, linux/bpf_common.h)
const LD_W_ABS = 0x20;   // A = *(u32 *)(data + k)
const ALU_AND_K = 0x54;  // A &= k
const JMP_JA = 0x05;     // pc += k
const JEQ_K = 0x15, JGT_K = 0x25, JGE_K = 0x35;
const RET_K = 0x06;
export const OPCODES = { LD_W_ABS, ALU_AND_K, JMP_JA, JEQ_K, JGT_K, JGE_K, RET_K };

export const AUDIT_ARCH: Record<SeccompArch, number> = {
  SCMP_ARCH_X86_64: 0xc000003e,
  SCMP_ARCH_X86: 0x40000003,
  SCMP_ARCH_X32: 0xc000003e, // x32 shares x86-64's audit arch: told apart by nr's bit 30
  SCMP_ARCH_AARCH64: 0xc00000b7,
  SCMP_ARCH_ARM: 0x40000028,
};
export const X32_SYSCALL_BIT = 0x40000000;
export const RET_KILL_PROCESS = 0x80000000;
const OFF_NR = 0, OFF_ARCH = 4, OFF_ARGS = 16;
const MAX_INSNS = 4096; // BPF_MAXINSNS: the kernel refuses longer filters

type Insn = [code: number, jt: number, jf: number, k: number];

/** The program as `struct sock_filter[]` bytes (u16 code, u8 jt, u8 jf, u32 k). */
export function compile(r: Resolved): Buffer {
  // x32 is a section of x86-64's: its numbers (bit 30 set) go into the same search
  const x32 = r.arches.find((a) => a.arch === 'SCMP_ARCH_X32');
  const own = r.arches.filter((a) => a.arch !== 'SCMP_ARCH_X32'); // the native arch first: the common case takes the first branch
  const sections = own.map((a) => {
    if (a.arch !== 'SCMP_ARCH_X86_64') return archSection(a.calls, r.defaultAction, []);
    const calls = new Map([...a.calls, ...(x32?.calls ?? [])]);
    // without x32 in the profile, every x32 call is a foreign ABI: killed, never the default
    const foreign = x32 ? [] : [{ lo: X32_SYSCALL_BIT, hi: 2 ** 32, action: RET_KILL_PROCESS }];
    return archSection(calls, r.defaultAction, foreign);
  });
  const prog: Insn[] = [[LD_W_ABS, 0, 0, OFF_ARCH]];
  // dispatch: `jeq arch` then a long jump (ja's offset is 32-bit, jt/jf only 8-bit)
  let at = 1 + sections.length * 2 + 1; // where the first section starts: after ld, the pairs and ret
  sections.forEach((code, i) => {
    const next = prog.length + 2; // ja counts from the instruction after it
    prog.push([JEQ_K, 0, 1, AUDIT_ARCH[own[i].arch]], [JMP_JA, 0, 0, at - next]);
    at += code.length;
  });
  prog.push([RET_K, 0, 0, RET_KILL_PROCESS]);
  for (const code of sections) prog.push(...code);
  if (prog.length > MAX_INSNS) throw new ProfileError(`the filter has ${prog.length} instructions, more than the kernel's ${MAX_INSNS}`);
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach(([code, jt, jf, k], i) => {
    buf.writeUInt16LE(code, i * 8);
    buf[i * 8 + 2] = jt;
    buf[i * 8 + 3] = jf;
    buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf;
}

interface Range { lo: number; hi: number; action?: number; checks?: Check[] } // [lo, hi): a plain action, or argument checks (one nr)

function archSection(calls: Map<number, Check[]>, def: number, extra: Range[]): Insn[] {
  const ranges = toRanges(calls, def, extra);
  return [[LD_W_ABS, 0, 0, OFF_NR], ...search(ranges, def)];
}

/** Cover [0, 2^32) with ranges; neighbours with the same plain action merge. */
function toRanges(calls: Map<number, Check[]>, def: number, extra: Range[]): Range[] {
  const points: Range[] = [...calls].map(([nr, checks]) => {
    const always = checks.length === 1 && !checks[0].conds.length;
    return always ? { lo: nr >>> 0, hi: (nr >>> 0) + 1, action: checks[0].action } : { lo: nr >>> 0, hi: (nr >>> 0) + 1, checks };
  });
  const sorted = [...points, ...extra].sort((a, b) => a.lo - b.lo);
  const out: Range[] = [];
  const push = (r: Range) => {
    const last = out[out.length - 1];
    if (last && last.hi === r.lo && last.action !== undefined && last.action === r.action) last.hi = r.hi;
    else out.push({ ...r });
  };
  let next = 0;
  for (const r of sorted) {
    if (r.lo > next) push({ lo: next, hi: r.lo, action: def });
    push(r);
    next = r.hi;
  }
  if (next < 2 ** 32) push({ lo: next, hi: 2 ** 32, action: def });
  return out;
}

/** Binary search over ranges by `jge lo`: the left half follows, the right half is jumped to. */
function search(ranges: Range[], def: number): Insn[] {
  if (ranges.length === 1) return leaf(ranges[0], def);
  const mid = ranges.length >> 1;
  const left = search(ranges.slice(0, mid), def), right = search(ranges.slice(mid), def);
  const k = ranges[mid].lo;
  if (left.length <= 255) return [[JGE_K, left.length, 0, k], ...left, ...right];
  return [[JGE_K, 0, 1, k], [JMP_JA, 0, 0, left.length], ...left, ...right];
}

function leaf(r: Range, def: number): Insn[] {
  if (!r.checks) return [[RET_K, 0, 0, r.action!]];
  const out: Insn[] = [];
  for (const c of r.checks) out.push(...ruleBlock(c));
  out.push([RET_K, 0, 0, def]);
  return out;
}

/**
 * One rule: its conditions in sequence, then `ret action`. A failed condition jumps past the
 * block (to the next rule); a passed one falls through to the next condition.
 * Jumps are written as labels first: PASS = end of this condition, FAIL = end of the block.
 */
function ruleBlock(check: Check): Insn[] {
  type J = number | 'PASS' | 'FAIL';
  const seqs = check.conds.map(condition);
  const total = seqs.reduce((n, s) => n + s.length, 0) + 1;
  const out: Insn[] = [];
  for (const seq of seqs) {
    const start = out.length;
    seq.forEach(([code, jt, jf, k], i) => {
      const pc = start + i + 1; // jumps count from the next instruction
      const to = (j: J) => (j === 'PASS' ? start + seq.length - pc : j === 'FAIL' ? total - pc : j);
      out.push([code, to(jt as J), to(jf as J), k]);
    });
  }
  out.push([RET_K, 0, 0, check.action]);
  for (const [, jt, jf] of out) if (jt > 255 || jf > 255) throw new ProfileError('a rule has too many conditions for one jump');
  return out;
}

/** One 64-bit unsigned comparison of argument `index` as instructions with PASS/FAIL labels. */
function condition(c: Cond): [number, number | string, number | string, number][] {
  const lo = (off: number) => OFF_ARGS + c.index * 8 + off;
  const ldHi = [LD_W_ABS, 0, 0, lo(4)] as const, ldLo = [LD_W_ABS, 0, 0, lo(0)] as const;
  const half = (v: bigint) => [Number(v >> 32n) >>> 0, Number(v & 0xffffffffn) >>> 0];
  const [vh, vl] = half(c.value);
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      return [[...ldHi], [JEQ_K, 0, 'FAIL', vh], [...ldLo], [JEQ_K, 0, 'FAIL', vl]];
    case 'SCMP_CMP_NE': // differs in the upper half → pass; else must differ in the lower
      return [[...ldHi], [JEQ_K, 0, 'PASS', vh], [...ldLo], [JEQ_K, 'FAIL', 0, vl]];
    case 'SCMP_CMP_MASKED_EQ': { // (arg & value) == valueTwo
      const [wh, wl] = half(c.valueTwo);
      return [[...ldHi], [ALU_AND_K, 0, 0, vh], [JEQ_K, 0, 'FAIL', wh], [...ldLo], [ALU_AND_K, 0, 0, vl], [JEQ_K, 0, 'FAIL', wl]];
    }
    case 'SCMP_CMP_GT':
      return [[...ldHi], [JGT_K, 'PASS', 0, vh], [JEQ_K, 0, 'FAIL', vh], [...ldLo], [JGT_K, 0, 'FAIL', vl]];
    case 'SCMP_CMP_GE':
      return [[...ldHi], [JGT_K, 'PASS', 0, vh], [JEQ_K, 0, 'FAIL', vh], [...ldLo], [JGE_K, 0, 'FAIL', vl]];
    case 'SCMP_CMP_LT': // not (arg >= value)
      return [[...ldHi], [JGT_K, 'FAIL', 0, vh], [JEQ_K, 0, 'PASS', vh], [...ldLo], [JGE_K, 'FAIL', 0, vl]];
    case 'SCMP_CMP_LE': // not (arg > value)
      return [[...ldHi], [JGT_K, 'FAIL', 0, vh], [JEQ_K, 0, 'PASS', vh], [...ldLo], [JGT_K, 'FAIL', 0, vl]];
  }
}

