// The supervisor's side of a seccomp listener fd (seccomp_unotify(2)): wait for
// notifications without blocking Node, receive one, check its id is still valid, answer it,
// and write an answer into the caller's memory through /proc/<pid>/mem.
//
// Why the wait is an async poll(2) and the receive a plain ioctl: SECCOMP_IOCTL_NOTIF_RECV
// blocks until a notification arrives, and Node cannot watch this anon-inode fd for
// readiness (libuv calls it unknown). `pollAsync` runs poll(2) on one libuv pool thread —
// one thread for every listener and a wake-up eventfd, not one per container (the pool has 4:
// DESIGN.md §1, and lib/libc/fuse.ts pins another) — and calls back on the main thread. After
// poll said POLLIN, RECV does not block: each pending notification ups the listener's
// semaphore once, and this process is the only reader (a caller killed in between leaves the
// count up and RECV returns ENOENT at once).
import * as fs from 'node:fs';
import { func, errno } from './core';

// ioctl numbers (asm-generic encoding: the same on x86_64 and arm64); sizes of the structs below
const NOTIF_SIZE = 80, RESP_SIZE = 24;
const IOCTL_RECV = 0xc0502100;      // _IOWR('!', 0, struct seccomp_notif)
const IOCTL_SEND = 0xc0182101;      // _IOWR('!', 1, struct seccomp_notif_resp)
// _IOR('!', 2, __u64): the direction 5.0 shipped; 5.6+ takes it and the corrected _IOW alike
const IOCTL_ID_VALID = 0x80082102;
export const USER_NOTIF_FLAG_CONTINUE = 1; // 5.5+
const POLLIN = 0x1, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
const EFD_CLOEXEC = 0o2000000, EFD_NONBLOCK = 0o4000;

export interface Notification {
  id: bigint;
  pid: number;   // in this process's pid namespace; 0 when the caller is not visible from here
  nr: number;
  arch: number;  // AUDIT_ARCH_*
  args: bigint[];
}

const ioctl = () => func('int ioctl(int fd, unsigned long request, ...)');

/**
 * One notification, or undefined when there was none after all (ENOENT: the caller was
 * killed between poll and here) or the listener is done (its filter has no tasks left).
 */
export function recvNotification(fd: number): Notification | undefined {
  const buf = Buffer.alloc(NOTIF_SIZE); // zeroed: 5.5+ refuses a dirty struct with EINVAL
  if (Number(ioctl()(fd, IOCTL_RECV, 'void *', buf)) < 0) return undefined;
  // struct seccomp_notif { u64 id; u32 pid; u32 flags; struct seccomp_data { int nr; u32 arch; u64 ip; u64 args[6]; } }
  return {
    id: buf.readBigUInt64LE(0),
    pid: buf.readUInt32LE(8),
    nr: buf.readInt32LE(16),
    arch: buf.readUInt32LE(20),
    args: [0, 1, 2, 3, 4, 5].map((i) => buf.readBigUInt64LE(32 + i * 8)),
  };
}

/** Is the notification still pending (its caller alive and still inside the call)? */
export function notificationValid(fd: number, id: bigint): boolean {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(id);
  return Number(ioctl()(fd, IOCTL_ID_VALID, 'void *', buf)) === 0;
}

/**
 * The call's result: `val` as its return value, or -`error`, or (flags CONTINUE) let the
 * kernel run it. Returns 0 or the errno (ENOENT: the caller is gone — normal).
 */
export function sendResponse(fd: number, id: bigint, r: { val?: number; error?: number; flags?: number }): number {
  const buf = Buffer.alloc(RESP_SIZE);
  // struct seccomp_notif_resp { u64 id; s64 val; s32 error; u32 flags; }; error is negative
  buf.writeBigUInt64LE(id, 0);
  buf.writeBigInt64LE(BigInt(r.val ?? 0), 8);
  buf.writeInt32LE(-(r.error ?? 0), 16);
  buf.writeUInt32LE(r.flags ?? 0, 20);
  return Number(ioctl()(fd, IOCTL_SEND, 'void *', buf)) < 0 ? errno() : 0;
}

/**
 * Open the memory of `pid` for writing. The fd is bound to that process's address space at
 * open: if the pid is reused later, writes still go to the original (or fail once it is
 * gone) — which is why callers check the notification's id *after* opening (the caller was
 * then alive and blocked in its call, so this fd is its memory). -1 when it cannot be opened.
 */
export function openProcessMemory(pid: number): number {
  // Node opens with O_CLOEXEC
  try { return fs.openSync(`/proc/${pid}/mem`, fs.constants.O_WRONLY); } catch { return -1; }
}

/** pwrite(fd, data, addr): true only when every byte was written (an unmapped address: EIO). */
export function writeProcessMemory(memFd: number, addr: bigint, data: Buffer): boolean {
  const n = Number(func('long pwrite(int fd, const void *buf, size_t count, int64_t offset)')(memFd, data, data.length, addr));
  return n === data.length;
}

/** A close-on-exec, non-blocking eventfd: the poll's wake-up (a listener added or removed). */
export const eventFd = (): number => {
  const fd = Number(func('int eventfd(unsigned int initval, int flags)')(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (fd < 0) throw new Error(`eventfd: errno ${errno()}`);
  return fd;
};
export const wake = (efd: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(1n); try { fs.writeSync(efd, b); } catch { /* counter full: already awake */ } };
export const drain = (efd: number) => { try { fs.readSync(efd, Buffer.alloc(8)); } catch { /* EAGAIN: nothing */ } };

export interface Ready { fd: number; readable: boolean; gone: boolean }

/**
 * poll(fds, POLLIN, -1) on a libuv pool thread; `done` on the main thread with each fd's
 * state. `gone`: POLLHUP/POLLERR/POLLNVAL — on a listener, every task of its filter has exited.
 */
export function pollAsync(fds: number[], done: (ready: Ready[] | undefined) => void): void {
  const pfds = Buffer.alloc(8 * fds.length);
  fds.forEach((fd, i) => { pfds.writeInt32LE(fd, i * 8); pfds.writeInt16LE(POLLIN, i * 8 + 4); });
  const poll: any = func('int poll(void *fds, unsigned long nfds, int timeout)');
  poll.async(pfds, fds.length, -1, (err: unknown, r: number) => {
    if (err || r < 0) return done(undefined); // EINTR and the like: the caller polls again
    done(fds.map((fd, i) => {
      const rev = pfds.readInt16LE(i * 8 + 6);
      return { fd, readable: (rev & POLLIN) !== 0, gone: (rev & (POLLHUP | POLLERR | POLLNVAL)) !== 0 };
    }));
  });
}
