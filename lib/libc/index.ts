// Every libc call box makes, declared once, wrapped so that failures throw SysError.
// Declarations are made on first use (core.ts): `box ps` should not pay for `execve`.
// Processes, mounts, ttys and cgroup BPF here; other concerns in files beside this one.
import * as fs from 'node:fs';
import { koffi } from './native';
import { SysError } from './errors';
import { func, check, sys } from './core';
import { BPF, PR, TIOC, F_GETFD, F_SETFD, F_GETFL, F_SETFL, FD_CLOEXEC, O_NONBLOCK, CLOSE_RANGE_CLOEXEC, SIG_SETMASK, SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP, AF_INET, SOCK_DGRAM, SOCK_CLOEXEC } from './constants';

export { SysError, BoxError } from './errors';

const DECLS = {
  unshare: 'int unshare(int flags)',
  setns: 'int setns(int fd, int nstype)',
  mount: 'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
  umount2: 'int umount2(const char *target, int flags)',
  sethostname: 'int sethostname(const char *name, size_t len)',
  chroot: 'int chroot(const char *path)',
  chdir: 'int chdir(const char *path)',
  setsid: 'int setsid()',
  ioctl: 'int ioctl(int fd, unsigned long request, ...)',
  prctl: 'int prctl(int option, ...)',
  fcntl: 'int fcntl(int fd, int cmd, ...)',
  syscall: 'long syscall(long number, ...)',
  execve: 'int execve(const char *path, const char **argv, const char **envp)',
  signal: 'void *signal(int sig, void *handler)',
  sigprocmask: 'int sigprocmask(int how, const void *set, void *oldset)',
  setgroups: 'int setgroups(size_t size, const uint32_t *list)',
  setresgid: 'int setresgid(uint32_t r, uint32_t e, uint32_t s)',
  setresuid: 'int setresuid(uint32_t r, uint32_t e, uint32_t s)',
  socket: 'int socket(int domain, int type, int protocol)',
  close: 'int close(int fd)',
  dup2: 'int dup2(int oldfd, int newfd)',
  umask: 'uint32_t umask(uint32_t mask)',
  _exit: 'void _exit(int status)',
  mkfifo: 'int mkfifo(const char *path, uint32_t mode)',
  setxattr: 'int setxattr(const char *path, const char *name, const void *value, size_t size, int flags)',
  lgetxattr: 'long lgetxattr(const char *path, const char *name, void *value, size_t size)',
  flock: 'int flock(int fd, int op)',
  tcgetattr: 'int tcgetattr(int fd, void *termios)',
  tcsetattr: 'int tcsetattr(int fd, int when, const void *termios)',
  cfmakeraw: 'void cfmakeraw(void *termios)',
} as const;

type Name = keyof typeof DECLS;
const fn = (name: Name) => func(DECLS[name]);

export const unshare = (flags: number) => void check(fn('unshare')(flags), 'unshare');
export const setns = (fd: number, type: number, what?: string) => void check(fn('setns')(fd, type), 'setns', what);
export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null) {
  check(fn('mount')(source, target, fstype, flags, data), 'mount', target);
}
export const umount2 = (target: string, flags: number) => void check(fn('umount2')(target, flags), 'umount', target);
export function sethostname(name: string) {
  check(fn('sethostname')(name, Buffer.byteLength(name)), 'sethostname', name);
}
export const chroot = (p: string) => void check(fn('chroot')(p), 'chroot', p);
export const chdir = (p: string) => void check(fn('chdir')(p), 'chdir', p);
export const setsid = () => check(fn('setsid')(), 'setsid');
export const pivotRoot = (newRoot: string, putOld: string) =>
  void check(fn('syscall')(sys().pivot_root, 'const char *', newRoot, 'const char *', putOld), 'pivot_root', newRoot);
export function closeRangeCloexec(from: number) {
  check(fn('syscall')(sys().close_range, 'uint32_t', from, 'uint32_t', 0xffffffff, 'uint32_t', CLOSE_RANGE_CLOEXEC), 'close_range');
}
export function prctl(option: number, arg = 0, arg2 = 0) {
  return check(fn('prctl')(option, 'unsigned long', arg, 'unsigned long', arg2, 'unsigned long', 0, 'unsigned long', 0), 'prctl');
}
export function ioctlInt(fd: number, req: number, value: number, what = 'ioctl') {
  return check(fn('ioctl')(fd, req, 'int', value), what);
}
export function ioctlBuf(fd: number, req: number, buf: Buffer, what = 'ioctl') {
  return check(fn('ioctl')(fd, req, 'void *', buf), what);
}

/** Make the calling process a session leader owning `fd` as its controlling terminal. */
export function setControllingTty(fd: number) {
  ioctlInt(fd, TIOC.SCTTY, 0, 'ioctl(TIOCSCTTY)');
}

export function setWinsize(fd: number, rows: number, cols: number) {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  ioctlBuf(fd, TIOC.SWINSZ, ws, 'ioctl(TIOCSWINSZ)');
}

/** unlockpt + ptsname for a master opened on some devpts instance's ptmx. */
export function unlockPty(master: number): number {
  const zero = Buffer.alloc(4);
  ioctlBuf(master, TIOC.SPTLCK, zero, 'ioctl(TIOCSPTLCK)');
  const n = Buffer.alloc(4);
  ioctlBuf(master, TIOC.GPTN, n, 'ioctl(TIOCGPTN)');
  return n.readUInt32LE(0);
}

/**
 * Raw mode as Docker sets it (cfmakeraw: no echo, no signals, no output processing).
 * Node's setRawMode keeps ONLCR, which would turn the container's "\r\n" into "\r\r\n".
 * Returns the previous settings for restoreTermios.
 */
export function makeRaw(fd: number): Buffer {
  const saved = termios(fd);
  const raw = Buffer.from(saved);
  fn('cfmakeraw')(raw);
  check(fn('tcsetattr')(fd, 0, raw), 'tcsetattr');
  return saved;
}
export function termios(fd: number): Buffer {
  const t = Buffer.alloc(64); // struct termios is 60 bytes on x64 and arm64
  check(fn('tcgetattr')(fd, t), 'tcgetattr');
  return t;
}
export function restoreTermios(fd: number, saved: Buffer) {
  fn('tcsetattr')(fd, 0, saved);
}

export function setCloexec(fd: number, on: boolean) {
  const flags = check(fn('fcntl')(fd, F_GETFD), 'fcntl');
  check(fn('fcntl')(fd, F_SETFD, 'int', on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC), 'fcntl');
}
export function setBlocking(fd: number) {
  const flags = check(fn('fcntl')(fd, F_GETFL), 'fcntl');
  if (flags & O_NONBLOCK) check(fn('fcntl')(fd, F_SETFL, 'int', flags & ~O_NONBLOCK), 'fcntl');
}

/**
 * Signals back to their defaults and none blocked: ignored dispositions would survive execve
 * (caught ones it resets itself). Only those /proc/self/status lists as ignored (Node's
 * SIGPIPE, what the caller ignored), each a call; all of them where that cannot be read (the
 * exec stage, whose /proc is of a pid namespace it is not in).
 */
export function resetSignals() {
  let ignored: bigint | undefined;
  try { ignored = BigInt(`0x${/^SigIgn:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]}`); } catch { /* all of them */ }
  for (let s = 1; s < 32; s++) if (s !== 9 && s !== 19 && (ignored === undefined || (ignored >> BigInt(s - 1)) & 1n)) fn('signal')(s, null);
  check(fn('sigprocmask')(SIG_SETMASK, Buffer.alloc(128), null), 'sigprocmask');
}

export function execve(file: string, argv: string[], env: string[]): never {
  fn('execve')(file, [...argv, null], [...env, null]);
  throw new SysError('execve', koffi().errno(), file);
}

/**
 * The calling thread's groups, gid and uid, by the raw syscalls: the kernel keeps credentials
 * per thread, and glibc's wrappers make every other thread of the process change too (a signal
 * to each, ~7 in Node, and a wait for all: a few ms of a run's path). The stages call this
 * only on the thread that then execs (execve ends the other threads, box's own, before the
 * command runs) or forks the command (`box exec`: the child inherits the forking thread's
 * credentials), as with capset and PR_CAPBSET_DROP, which are per thread anyway.
 */
export function setIds(uid: number, gid: number, groups: number[]) {
  const list = new Uint32Array(groups.length ? groups : [0]);
  check(fn('syscall')(sys().setgroups, 'int', groups.length, 'uint32_t *', list), 'setgroups');
  check(fn('syscall')(sys().setresgid, 'uint32_t', gid, 'uint32_t', gid, 'uint32_t', gid), 'setgid', String(gid));
  check(fn('syscall')(sys().setresuid, 'uint32_t', uid, 'uint32_t', uid, 'uint32_t', uid), 'setuid', String(uid));
}

export function setxattr(p: string, name: string, value: string) {
  const v = Buffer.from(value);
  check(fn('setxattr')(p, name, v, v.length, 0), 'setxattr', `${p} ${name}`);
}
/** An extended attribute's value, or undefined when it is not set. */
export function getxattr(p: string, name: string): string | undefined {
  const buf = Buffer.alloc(256);
  const n = Number(fn('lgetxattr')(p, name, buf, buf.length));
  return n < 0 ? undefined : buf.subarray(0, n).toString();
}
/** The untar helper chroots: load libc and declare what it will call while host paths still resolve. */
export function preloadForUntar() {
  fn('setxattr');
  fn('syscall');
  fn('mkfifo');
}

export const mkfifo = (p: string, mode: number) => void check(fn('mkfifo')(p, mode), 'mkfifo', p);
/** An exclusive advisory lock on an open file, held until it is closed (or the process dies). */
export const flockExclusive = (fd: number, what: string) => void check(fn('flock')(fd, 2 /* LOCK_EX */), 'flock', what);
/** LOCK_EX|LOCK_NB: false if another open file holds it (EWOULDBLOCK). */
export function tryFlockExclusive(fd: number, what: string): boolean {
  if (fn('flock')(fd, 2 | 4 /* LOCK_EX | LOCK_NB */) === 0) return true;
  const errno = koffi().errno();
  if (errno === 11 /* EWOULDBLOCK */) return false;
  throw new SysError('flock', errno, what);
}

export const dup2 = (a: number, b: number) => check(fn('dup2')(a, b), 'dup2');
export const close = (fd: number) => void fn('close')(fd);
export const umask = (m: number) => fn('umask')(m);
/** Exit at once, without Node's teardown (threads joined, heap freed): for a stage whose work is done. */
export const exitNow = (status: number): never => { fn('_exit')(status); throw new Error('_exit returned'); };

/** Capabilities: drop from the bounding set, then set effective/permitted to `keep`, inheritable empty. */
export function limitCapabilities(keep: Set<number>, lastCap: number, opts: { boundingOnly?: boolean } = {}) {
  for (let c = 0; c <= lastCap; c++) {
    if (!keep.has(c)) check(fn('prctl')(PR.CAPBSET_DROP, 'unsigned long', c, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0), 'prctl(PR_CAPBSET_DROP)');
  }
  // A non-root user loses permitted/effective at setuid; capset would only fail.
  if (opts.boundingOnly) return;
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(0x20080522, 0); // _LINUX_CAPABILITY_VERSION_3
  const data = Buffer.alloc(24); // two __user_cap_data_struct { effective, permitted, inheritable }
  check(fn('syscall')(sys().capget, 'void *', hdr, 'void *', data), 'capget');
  // Only what we hold can be kept (a host root may itself lack some, e.g. CAP_SYS_RESOURCE).
  const held = (c: number) => (data.readUInt32LE((c >> 5) * 12 + 4) >>> (c & 31)) & 1;
  keep = new Set([...keep].filter(held));
  data.fill(0);
  for (const c of keep) {
    const word = c >> 5, bit = 1 << (c & 31);
    for (const off of [0, 4]) data.writeUInt32LE((data.readUInt32LE(word * 12 + off) | bit) >>> 0, word * 12 + off);
  }
  check(fn('syscall')(sys().capset, 'void *', hdr, 'void *', data), 'capset');
  check(fn('prctl')(PR.CAP_AMBIENT, 'unsigned long', PR.CAP_AMBIENT_CLEAR_ALL, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0), 'prctl(PR_CAP_AMBIENT)');
}

/** Bring the loopback interface of the current network namespace up. */
export function loopbackUp() {
  const s = check(fn('socket')(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), 'socket');
  try {
    const ifr = Buffer.alloc(40);
    ifr.write('lo', 0);
    ioctlBuf(s, SIOCGIFFLAGS, ifr, 'ioctl(SIOCGIFFLAGS) lo');
    ifr.writeUInt16LE(ifr.readUInt16LE(16) | IFF_UP, 16);
    ioctlBuf(s, SIOCSIFFLAGS, ifr, 'ioctl(SIOCSIFFLAGS) lo');
  } finally {
    close(s);
  }
}

let bpfLoadAttr: any;
/** Load a BPF_PROG_TYPE_CGROUP_DEVICE program; returns its fd. The verifier's log goes into the error. */
export function bpfLoadDeviceProgram(insns: Buffer): number {
  const k = koffi();
  bpfLoadAttr ??= k.struct('box_bpf_prog_load_attr', {
    prog_type: 'uint32_t', insn_cnt: 'uint32_t', insns: 'void *', license: 'const char *',
    log_level: 'uint32_t', log_size: 'uint32_t', log_buf: 'void *', kern_version: 'uint32_t', prog_flags: 'uint32_t', prog_name: 'char[16]',
  });
  const log = Buffer.alloc(16384);
  const attr = { prog_type: BPF.PROG_TYPE_CGROUP_DEVICE, insn_cnt: insns.length / 8, insns, license: 'MIT', log_level: 1, log_size: log.length, log_buf: log, kern_version: 0, prog_flags: 0, prog_name: 'box_devices' };
  const fd = Number(fn('syscall')(sys().bpf, 'int', BPF.PROG_LOAD, 'box_bpf_prog_load_attr *', attr, 'uint32_t', k.sizeof(bpfLoadAttr)));
  if (fd < 0) {
    const err = new SysError('bpf(BPF_PROG_LOAD)', k.errno(), 'device program');
    err.message += `: ${log.toString().replace(/\0[\s\S]*$/, '').trim().split('\n').slice(-2).join(' / ')}`;
    throw err;
  }
  return fd;
}

/** Attach a device program to a cgroup v2 directory (opened as an fd). */
export function bpfAttachDevice(cgroupFd: number, progFd: number, what: string) {
  const attr = Buffer.alloc(16); // { target_fd, attach_bpf_fd, attach_type, attach_flags }
  attr.writeUInt32LE(cgroupFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(BPF.CGROUP_DEVICE, 8);
  attr.writeUInt32LE(BPF.F_ALLOW_MULTI, 12);
  check(fn('syscall')(sys().bpf, 'int', BPF.PROG_ATTACH, 'void *', attr, 'uint32_t', attr.length), 'bpf(BPF_PROG_ATTACH)', what);
}

/**
 * A new anonymous session keyring for the calling thread (and what it execs): without it a
 * container inherits the caller's session keyring and reads and adds to host root's keys.
 */
export function joinNewSessionKeyring() {
  const KEYCTL_JOIN_SESSION_KEYRING = 1;
  const r = Number(fn('syscall')(sys().keyctl, 'int', KEYCTL_JOIN_SESSION_KEYRING, 'void *', null));
  if (r < 0 && koffi().errno() !== 38 /* ENOSYS: a kernel without keys has nothing to inherit */) throw new SysError('keyctl(KEYCTL_JOIN_SESSION_KEYRING)', koffi().errno());
}
