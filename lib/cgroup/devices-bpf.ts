// cgroup v2 has no devices.allow: access is decided by an eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. This turns Docker-style rules
// ("c 1:3 rwm", "b *:* m") into that program: an allow-list, everything else denied.
// Pure: the instructions are unit-tested; lib/libc loads and attaches them.

// struct bpf_cgroup_dev_ctx { u32 access_type /* access << 16 | type */; u32 major; u32 minor; }
const DEV_BLOCK = 1, DEV_CHAR = 2;
const ACC_MKNOD = 1, ACC_READ = 2, ACC_WRITE = 4;

// eBPF opcodes used here (linux/bpf.h: class | op | source)
const LDX_W = 0x61;      // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
const AND32_K = 0x54;    // BPF_ALU | BPF_AND | BPF_K
const RSH32_K = 0x74;    // BPF_ALU | BPF_RSH | BPF_K
const MOV32_X = 0xbc;    // BPF_ALU | BPF_MOV | BPF_X
const MOV64_K = 0xb7;    // BPF_ALU64 | BPF_MOV | BPF_K
const JNE_K = 0x55;      // BPF_JMP | BPF_JNE | BPF_K
const EXIT = 0x95;       // BPF_JMP | BPF_EXIT

type Insn = [op: number, dst: number, src: number, off: number, imm: number];

export interface DeviceRule { type: 'a' | 'b' | 'c'; major: number | '*'; minor: number | '*'; access: number }

export function parseRule(s: string): DeviceRule {
  const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(s.trim());
  if (!m) throw new Error(`bad device rule "${s}"`);
  const access = [...m[4]].reduce((a, c) => a | (c === 'r' ? ACC_READ : c === 'w' ? ACC_WRITE : ACC_MKNOD), 0);
  const num = (x: string) => (x === '*' ? '*' : Number(x));
  return { type: m[1] as DeviceRule['type'], major: num(m[2]), minor: num(m[3]), access };
}

/** The program, as 8-byte instructions: returns 1 (allow) when a rule matches, else 0. */
export function deviceProgram(rules: DeviceRule[]): Buffer {
  const prog: Insn[] = [
    [LDX_W, 2, 1, 0, 0], [AND32_K, 2, 0, 0, 0xffff],   // r2 = device type
    [LDX_W, 3, 1, 0, 0], [RSH32_K, 3, 0, 0, 16],       // r3 = requested access
    [LDX_W, 4, 1, 4, 0],                               // r4 = major
    [LDX_W, 5, 1, 8, 0],                               // r5 = minor
  ];
  for (const r of rules) {
    const block: Insn[] = [];
    if (r.type !== 'a') block.push([JNE_K, 2, 0, 0, r.type === 'b' ? DEV_BLOCK : DEV_CHAR]);
    if (r.access !== (ACC_MKNOD | ACC_READ | ACC_WRITE)) {
      // any requested bit outside the rule's: no match
      block.push([MOV32_X, 1, 3, 0, 0], [AND32_K, 1, 0, 0, ~r.access & 7], [JNE_K, 1, 0, 0, 0]);
    }
    if (r.major !== '*') block.push([JNE_K, 4, 0, 0, r.major]);
    if (r.minor !== '*') block.push([JNE_K, 5, 0, 0, r.minor]);
    block.push([MOV64_K, 0, 0, 0, 1], [EXIT, 0, 0, 0, 0]);
    // every "no match" jump skips to the end of this block
    block.forEach((ins, i) => { if (ins[0] === JNE_K) ins[3] = block.length - 1 - i; });
    prog.push(...block);
  }
  prog.push([MOV64_K, 0, 0, 0, 0], [EXIT, 0, 0, 0, 0]);
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach(([op, dst, src, off, imm], i) => {
    buf[i * 8] = op;
    buf[i * 8 + 1] = (src << 4) | dst;
    buf.writeInt16LE(off, i * 8 + 2);
    buf.writeInt32LE(imm, i * 8 + 4);
  });
  return buf;
}
