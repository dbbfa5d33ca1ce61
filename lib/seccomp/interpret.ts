// A classic-BPF interpreter for seccomp programs: it runs the bytes box would load on a
// synthetic `struct seccomp_data` and returns the filter's verdict. The unit tests check the
// compiler with it; `box run` asks it whether a profile lets box itself reach execve. It
// implements the instructions the kernel's seccomp checker accepts and rejects anything
// else, and enforces what the kernel does: forward jumps only, loads aligned and in range,
// the program ending in a return.
const LD_W_ABS = 0x20, LD_W_LEN = 0x80, LDX_W_LEN = 0x81, LD_IMM = 0x00, LDX_IMM = 0x01, LD_MEM = 0x60, LDX_MEM = 0x61, ST = 0x02, STX = 0x03;
const RET_K = 0x06, RET_A = 0x16, TAX = 0x07, TXA = 0x87;

export interface SeccompData { nr: number; arch: number; ip?: bigint; args?: (bigint | number)[] }

function dataBytes(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeInt32LE(d.nr | 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.ip ?? 0n, 8);
  (d.args ?? []).forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + i * 8));
  return b;
}

/** Run `prog` (struct sock_filter[] bytes) on `d`: the 32-bit SECCOMP_RET_* value. */
export function runFilter(prog: Buffer, d: SeccompData): number {
  if (prog.length % 8 || prog.length === 0 || prog.length / 8 > 4096) throw new Error('bad program length');
  const data = dataBytes(d);
  const n = prog.length / 8;
  let A = 0, X = 0, pc = 0;
  const M = new Array(16).fill(0);
  for (let steps = 0; steps <= n; steps++) {
    if (pc >= n) throw new Error(`fell off the end at ${pc}`);
    const code = prog.readUInt16LE(pc * 8), jt = prog[pc * 8 + 2], jf = prog[pc * 8 + 3], k = prog.readUInt32LE(pc * 8 + 4);
    pc++;
    const cls = code & 0x07;
    if (cls === 0x05) { // JMP
      const op = code & 0xf0, src = code & 0x08 ? X : k;
      if (op === 0x00) { pc += k; continue; } // JA
      const cond = op === 0x10 ? A === src : op === 0x20 ? A > src : op === 0x30 ? A >= src : op === 0x40 ? (A & src) !== 0 : (() => { throw new Error(`bad jump ${code.toString(16)}`); })();
      pc += cond ? jt : jf;
      continue;
    }
    if (cls === 0x04) { // ALU
      const op = code & 0xf0, src = code & 0x08 ? X : k;
      switch (op) {
        case 0x00: A = (A + src) >>> 0; break;
        case 0x10: A = (A - src) >>> 0; break;
        case 0x20: A = Math.imul(A, src) >>> 0; break;
        case 0x40: A = (A | src) >>> 0; break;
        case 0x50: A = (A & src) >>> 0; break;
        case 0x60: A = src >= 32 ? 0 : (A << src) >>> 0; break;
        case 0x70: A = src >= 32 ? 0 : A >>> src; break;
        case 0x80: A = (-A) >>> 0; break;
        case 0xa0: A = (A ^ src) >>> 0; break;
        default: throw new Error(`bad alu ${code.toString(16)}`);
      }
      continue;
    }
    switch (code) {
      case LD_W_ABS:
        if (k % 4 || k + 4 > 64) throw new Error(`misaligned or out-of-range load at ${k}`);
        A = data.readUInt32LE(k); break;
      case LD_W_LEN: A = 64; break;
      case LDX_W_LEN: X = 64; break;
      case LD_IMM: A = k >>> 0; break;
      case LDX_IMM: X = k >>> 0; break;
      case LD_MEM: A = M[k]; break;
      case LDX_MEM: X = M[k]; break;
      case ST: M[k] = A; break;
      case STX: M[k] = X; break;
      case TAX: X = A; break;
      case TXA: A = X; break;
      case RET_K: return k >>> 0;
      case RET_A: return A >>> 0;
      default: throw new Error(`instruction ${code.toString(16)} at ${pc - 1} is not allowed in seccomp`);
    }
  }
  throw new Error('no return');
}
