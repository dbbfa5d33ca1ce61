// Handing an open file descriptor from one box process to another (SCM_RIGHTS over an
// AF_UNIX socket). The stage opens the container's pty master *inside* the container and
// passes it to box, so box never resolves a path the container controls. Node cannot do
// this on its own pipes (libuv reads them with read(), which drops ancillary data), so
// box makes a dedicated SOCK_SEQPACKET pair and calls sendmsg/recvmsg directly.
import { koffi } from './native';
import { func, check } from './core';

const AF_UNIX = 1, SOCK_SEQPACKET = 5, SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_DONTWAIT = 0x40, MSG_CMSG_CLOEXEC = 0x40000000;
const CMSG_LEN = 16 + 4;   // struct cmsghdr { size_t len; int level; int type; } + one int
const CMSG_SPACE = 24;     // CMSG_LEN rounded up to the alignment of size_t

let types: { msghdr: any } | undefined;
function msgTypes() {
  if (types) return types;
  const k = koffi();
  const iovec = k.struct('box_iovec', { base: 'void *', len: 'size_t' });
  const msghdr = k.struct('box_msghdr', { name: 'void *', namelen: 'uint32_t', iov: k.pointer(iovec), iovlen: 'size_t', control: 'void *', controllen: 'size_t', flags: 'int' });
  return (types = { msghdr });
}

/** A connected pair of close-on-exec SOCK_SEQPACKET sockets: [box's end, the child's end]. */
export function socketPair(): [number, number] {
  const sv = new Int32Array(2);
  check(func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)')(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 'socketpair');
  return [sv[0], sv[1]];
}

/**
 * A connected pair of close-on-exec AF_UNIX stream sockets: what Node's spawn makes for a
 * 'pipe' stdio, made here for a stage spawned before its stdio was known (a pooled one).
 */
export function streamPair(): [number, number] {
  const SOCK_STREAM = 1;
  const sv = new Int32Array(2);
  check(func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)')(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 'socketpair');
  return [sv[0], sv[1]];
}

/** Send `fd` with `data` (one byte by default: a message must carry some). */
export function sendFd(sock: number, fd: number, data = Buffer.from('F')) {
  msgTypes();
  const ctl = Buffer.alloc(CMSG_SPACE);
  ctl.writeBigUInt64LE(BigInt(CMSG_LEN), 0);
  ctl.writeInt32LE(SOL_SOCKET, 8);
  ctl.writeInt32LE(SCM_RIGHTS, 12);
  ctl.writeInt32LE(fd, 16);
  const msg = { name: null, namelen: 0, iov: { base: data, len: data.length }, iovlen: 1, control: ctl, controllen: CMSG_SPACE, flags: 0 };
  check(func('long sendmsg(int fd, const box_msghdr *msg, int flags)')(sock, msg, 0), 'sendmsg(SCM_RIGHTS)');
}

/** Receive one fd sent with sendFd; it is already queued (the sender says so on its channel afterwards). */
export function recvFd(sock: number): number {
  msgTypes();
  const ctl = Buffer.alloc(CMSG_SPACE);
  const msg = { name: null, namelen: 0, iov: { base: Buffer.alloc(1), len: 1 }, iovlen: 1, control: ctl, controllen: CMSG_SPACE, flags: 0 };
  check(func('long recvmsg(int fd, _Inout_ box_msghdr *msg, int flags)')(sock, msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC), 'recvmsg(SCM_RIGHTS)');
  if (msg.controllen < CMSG_LEN || ctl.readInt32LE(8) !== SOL_SOCKET || ctl.readInt32LE(12) !== SCM_RIGHTS) throw new Error('recvmsg: no file descriptor in the message');
  return ctl.readInt32LE(16);
}

/** A close-on-exec AF_UNIX stream socket connected to `path`. */
export function connectUnix(path: string): number {
  const SOCK_STREAM = 1;
  const addr = Buffer.alloc(110); // struct sockaddr_un { sa_family_t family; char path[108]; }
  if (Buffer.byteLength(path) > 107) throw new Error(`${path}: socket path too long`);
  addr.writeUInt16LE(AF_UNIX, 0);
  addr.write(path, 2);
  const fd = check(func('int socket(int domain, int type, int protocol)')(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), 'socket');
  try {
    check(func('int connect(int fd, const void *addr, uint32_t len)')(fd, addr, addr.length), 'connect', path);
  } catch (e) {
    func('int close(int fd)')(fd);
    throw e;
  }
  return fd;
}

const cmsgSpace = (n: number) => (16 + 4 * n + 7) & ~7;

/** Send `data` with up to a few fds in one message (one sendmsg: they arrive together). */
export function sendFds(sock: number, data: Buffer, fds: number[]) {
  msgTypes();
  const ctl = fds.length ? Buffer.alloc(cmsgSpace(fds.length)) : null;
  if (ctl) {
    ctl.writeBigUInt64LE(BigInt(16 + 4 * fds.length), 0);
    ctl.writeInt32LE(SOL_SOCKET, 8);
    ctl.writeInt32LE(SCM_RIGHTS, 12);
    fds.forEach((fd, i) => ctl.writeInt32LE(fd, 16 + 4 * i));
  }
  const msg = { name: null, namelen: 0, iov: { base: data, len: data.length }, iovlen: 1, control: ctl, controllen: ctl ? ctl.length : 0, flags: 0 };
  for (;;) {
    const r = func('long sendmsg(int fd, const box_msghdr *msg, int flags)')(sock, msg, 0x4000 /* MSG_NOSIGNAL */);
    if (r >= 0) return;
    const errno = koffi().errno();
    if (errno !== 4 /* EINTR */ && errno !== 11 /* EAGAIN: a full buffer, briefly */) check(r, 'sendmsg(SCM_RIGHTS)');
  }
}

/**
 * Receive one message and the fds that came with it (close-on-exec), waiting up to `ms`
 * for it (poll: the socket may be non-blocking, e.g. libuv's). Undefined on EOF or timeout.
 */
export function recvFds(sock: number, max: number, ms: number): { data: Buffer; fds: number[] } | undefined {
  msgTypes();
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(sock, 0);
  pfd.writeInt16LE(1 /* POLLIN */, 4);
  const until = Date.now() + ms;
  let ready: number;
  // a signal (a forwarded one, the profiler's) interrupts poll: wait on for what is left
  while ((ready = func('int poll(_Inout_ void *fds, unsigned long n, int timeout)')(pfd, 1, Math.max(0, until - Date.now()))) < 0 && koffi().errno() === 4 /* EINTR */);
  if (ready <= 0) return undefined;
  const ctl = Buffer.alloc(cmsgSpace(max));
  const buf = Buffer.alloc(65536);
  const msg = { name: null, namelen: 0, iov: { base: buf, len: buf.length }, iovlen: 1, control: ctl, controllen: ctl.length, flags: 0 };
  const n = func('long recvmsg(int fd, _Inout_ box_msghdr *msg, int flags)')(sock, msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n <= 0) return undefined;
  const fds: number[] = [];
  if (msg.controllen >= 16 && ctl.readInt32LE(8) === SOL_SOCKET && ctl.readInt32LE(12) === SCM_RIGHTS) {
    const len = Number(ctl.readBigUInt64LE(0));
    for (let off = 16; off + 4 <= len; off += 4) fds.push(ctl.readInt32LE(off));
  }
  return { data: buf.subarray(0, Number(n)), fds };
}
