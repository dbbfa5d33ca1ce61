// Process attributes an OCI config.json sets beyond box's own flags: resource limits, the
// capability sets by capget/capset (all three, as masks), and the NIS domain name. umask is
// in index.ts. Capabilities are per thread: these act on the calling one.
import { func, check, sys } from './core';

/** RLIM_INFINITY: (rlim_t)-1. */
export const RLIM_INFINITY = 0xffffffffffffffffn;

/** linux/resource.h, the same on x64 and arm64. */
export const RLIMIT: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5, RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10, RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

export interface Rlimit { soft: bigint; hard: bigint }
/** Capability sets as 64-bit masks (bit n = capability n). */
export interface CapSets { effective: bigint; permitted: bigint; inheritable: bigint }

const DECLS = {
  prlimit: 'int prlimit(int pid, int resource, const void *new_limit, void *old_limit)',
  setdomainname: 'int setdomainname(const char *name, size_t len)',
  syscall: 'long syscall(long number, ...)',
} as const;
const fn = (name: keyof typeof DECLS) => func(DECLS[name]);

/** This process's limit (prlimit64 on itself). `what` names it in errors ("RLIMIT_NOFILE"). */
export function getrlimit(resource: number, what = `rlimit ${resource}`): Rlimit {
  const old = Buffer.alloc(16); // struct rlimit64 { u64 cur, max; }
  check(fn('prlimit')(0, resource, null, old), 'prlimit', what);
  return { soft: old.readBigUInt64LE(0), hard: old.readBigUInt64LE(8) };
}

/** Set this process's limit; raising the hard one needs CAP_SYS_RESOURCE (EPERM otherwise). */
export function setrlimit(resource: number, soft: bigint, hard: bigint, what = `rlimit ${resource}`) {
  const lim = Buffer.alloc(16);
  lim.writeBigUInt64LE(soft, 0);
  lim.writeBigUInt64LE(hard, 8);
  check(fn('prlimit')(0, resource, lim, null), 'prlimit', what);
}

export function setdomainname(name: string) {
  check(fn('setdomainname')(name, Buffer.byteLength(name)), 'setdomainname', name);
}

const header = () => {
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(0x20080522, 0); // _LINUX_CAPABILITY_VERSION_3; pid 0: the calling thread
  return hdr;
};
const mask = (data: Buffer, off: number) => BigInt(data.readUInt32LE(off)) | (BigInt(data.readUInt32LE(12 + off)) << 32n);

/** The calling thread's effective, permitted and inheritable sets. */
export function capGet(): CapSets {
  const data = Buffer.alloc(24); // two __user_cap_data_struct { effective, permitted, inheritable }
  check(fn('syscall')(sys().capget, 'void *', header(), 'void *', data), 'capget');
  return { effective: mask(data, 0), permitted: mask(data, 4), inheritable: mask(data, 8) };
}

/** Set all three (the kernel refuses a permitted set larger than the one held, effective outside permitted). */
export function capSet(s: CapSets) {
  const data = Buffer.alloc(24);
  [s.effective, s.permitted, s.inheritable].forEach((m, i) => {
    data.writeUInt32LE(Number(m & 0xffffffffn), i * 4);
    data.writeUInt32LE(Number((m >> 32n) & 0xffffffffn), 12 + i * 4);
  });
  check(fn('syscall')(sys().capset, 'void *', header(), 'void *', data), 'capset');
}
