// Numbers from the kernel's uapi headers. Syscall numbers differ per architecture; those
// from 424 on are shared by every architecture (the kernel's generic table).
export interface Syscalls {
  pivot_root: number; mknodat: number; close_range: number; capset: number; capget: number; bpf: number;
  memfd_create: number; execveat: number; keyctl: number; seccomp: number; open_tree: number; move_mount: number; openat2: number; mount_setattr: number;
  pidfd_send_signal: number; pidfd_open: number; setgroups: number; setresgid: number; setresuid: number;
}
const GENERIC = { pidfd_send_signal: 424, open_tree: 428, move_mount: 429, pidfd_open: 434, close_range: 436, openat2: 437, mount_setattr: 442 };
export const SYS: Record<string, Syscalls> = {
  x64: { ...GENERIC, pivot_root: 155, mknodat: 259, capset: 126, capget: 125, bpf: 321, memfd_create: 319, execveat: 322, keyctl: 250, seccomp: 317, setgroups: 116, setresgid: 119, setresuid: 117 },
  arm64: { ...GENERIC, pivot_root: 41, mknodat: 33, capset: 91, capget: 90, bpf: 280, memfd_create: 279, execveat: 281, keyctl: 219, seccomp: 277, setgroups: 159, setresgid: 149, setresuid: 147 },
};

export const BPF = { PROG_LOAD: 5, PROG_ATTACH: 8, PROG_TYPE_CGROUP_DEVICE: 15, CGROUP_DEVICE: 6, F_ALLOW_MULTI: 2 } as const;

export const CLONE = {
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
  FS: 0x00000200,
} as const;

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  POSIXACL: 1 << 16,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  STRICTATIME: 1 << 24,
  RELATIME: 1 << 21,
  I_VERSION: 1 << 23,
  LAZYTIME: 1 << 25,
} as const;

export const MNT_DETACH = 2;
export const AT_FDCWD = -100;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

export const PR = {
  SET_PDEATHSIG: 1,
  SET_DUMPABLE: 4,
  SET_NAME: 15,
  CAPBSET_READ: 23,
  CAPBSET_DROP: 24,
  SET_CHILD_SUBREAPER: 36,
  SET_NO_NEW_PRIVS: 38,
  CAP_AMBIENT: 47,
  CAP_AMBIENT_CLEAR_ALL: 4,
} as const;

export const TIOC = {
  SCTTY: 0x540e,
  GWINSZ: 0x5413,
  SWINSZ: 0x5414,
  GPTN: 0x80045430,
  SPTLCK: 0x40045431,
  NOTTY: 0x5422,
} as const;

export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const IFF_UP = 1;
export const AF_INET = 2;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;

export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
// memfd_create flags, file seals (F_ADD_SEALS is F_LINUX_SPECIFIC_BASE + 9), execveat's flag.
export const MFD = { CLOEXEC: 1, ALLOW_SEALING: 2, EXEC: 0x10 } as const;
export const F_ADD_SEALS = 1033;
export const F_SEAL = { SEAL: 1, SHRINK: 2, GROW: 4, WRITE: 8 } as const;
export const AT_EMPTY_PATH = 0x1000;
export const O_NONBLOCK = 0o4000;
export const CLOSE_RANGE_CLOEXEC = 4;
export const SIG_SETMASK = 2;
