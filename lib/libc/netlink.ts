// A NETLINK_ROUTE socket (issue 17: box makes its bridge, veths, addresses and routes itself;
// `ip` and `brctl` are not dependencies). Only the socket and the reply loop live here; the
// messages are built in lib/net/rtnetlink.ts. `parseReplies` is pure, so the unit tests feed it
// crafted buffers: every length in a reply is checked before it is used, because a wrong length
// would otherwise make us read past the datagram (a Buffer throws, but with a useless message).
//
// Byte order: netlink is host-endian; box runs on x64 and arm64, both little-endian.
// The calls block the main thread: rtnetlink answers from inside sendmsg(2), so the reply is
// queued before send returns (a dump is produced as we read), and nothing waits on the network.
import { func, check, errno } from './core';
import { BoxError } from './errors';
import { errnoText } from './errno';

const AF_NETLINK = 16, SOCK_RAW = 3, SOCK_CLOEXEC = 0o2000000, NETLINK_ROUTE = 0;
const MSG_TRUNC = 0x20;
const SOL_NETLINK = 270, NETLINK_CAP_ACK = 10, NETLINK_EXT_ACK = 11;
/** NLMSG_ERROR flags: the echoed request is its header only; extended-ack attributes follow it. */
const NLM_F_CAPPED = 0x100, NLM_F_ACK_TLVS = 0x200, NLMSGERR_ATTR_MSG = 1;
export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1, NLMSG_ERROR = 2, NLMSG_DONE = 3;
export const NLM_F_MULTI = 0x2;

/** A failed netlink request: "netlink: create bridge box0: EEXIST (file exists)". */
export class NetlinkError extends BoxError {
  code: string;
  constructor(readonly op: string, readonly errno: number, readonly why?: string) {
    super(`netlink: ${op}: ${errnoText(errno)}${why ? `: ${why}` : ''}`);
    this.code = errnoText(errno).split(' ')[0];
  }
}

/** One message of a reply: its type and its payload (after the 16-byte header), copied. */
export interface NlMsg { type: number; flags: number; payload: Buffer }

/**
 * The messages of one datagram, for the request with sequence number `seq`. Returns the data
 * messages and whether the request is finished: an ACK (NLMSG_ERROR with error 0) ends a plain
 * request; a dump has no ACK (the kernel skips it for dumps) and ends with NLMSG_DONE, whose
 * payload is the dump's own error. Throws NetlinkError for a kernel error, BoxError for a
 * malformed or foreign reply.
 */
export function parseReplies(buf: Buffer, seq: number, op: string): { msgs: NlMsg[]; done: boolean } {
  const msgs: NlMsg[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NLMSG_HDRLEN) throw bad(op, `truncated header at ${off}`);
    const len = buf.readUInt32LE(off), type = buf.readUInt16LE(off + 4), flags = buf.readUInt16LE(off + 6);
    if (len < NLMSG_HDRLEN || len > buf.length - off) throw bad(op, `message length ${len} at ${off} of ${buf.length}`);
    const mseq = buf.readUInt32LE(off + 8);
    if (mseq !== seq) throw bad(op, `sequence ${mseq}, expected ${seq}`);
    const payload = Buffer.from(buf.subarray(off + NLMSG_HDRLEN, off + len));
    off += align4(len);
    if (type === NLMSG_NOOP) continue;
    if (type === NLMSG_ERROR) {
      // struct nlmsgerr: int error, then the request's header (and maybe more) echoed back.
      if (payload.length < 4) throw bad(op, 'short NLMSG_ERROR');
      const err = payload.readInt32LE(0);
      if (err !== 0) throw new NetlinkError(op, -err, extAckMessage(payload, flags));
      return { msgs, done: true };
    }
    if (type === NLMSG_DONE) {
      const err = payload.length >= 4 ? payload.readInt32LE(0) : 0;
      if (err < 0) throw new NetlinkError(op, -err);
      return { msgs, done: true };
    }
    msgs.push({ type, flags, payload });
  }
  return { msgs, done: false };
}

const align4 = (n: number) => (n + 3) & ~3;

/**
 * The kernel's own words for an error ("Unknown device type"), sent with NETLINK_EXT_ACK as an
 * attribute after the echoed request. Best effort: anything malformed yields no text, never a
 * read outside the payload.
 */
function extAckMessage(payload: Buffer, flags: number): string | undefined {
  if (!(flags & NLM_F_ACK_TLVS) || payload.length < 4 + NLMSG_HDRLEN) return undefined;
  let off = 4 + (flags & NLM_F_CAPPED ? NLMSG_HDRLEN : payload.readUInt32LE(4));
  off = align4(off);
  while (off + 4 <= payload.length) {
    const len = payload.readUInt16LE(off), type = payload.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || len > payload.length - off) return undefined;
    if (type === NLMSGERR_ATTR_MSG) return payload.toString('utf8', off + 4, off + len).replace(/\0[\s\S]*$/, '').replace(/[^\x20-\x7e]/g, '?') || undefined;
    off += align4(len);
  }
  return undefined;
}
const bad = (op: string, why: string) => new BoxError(`netlink: ${op}: malformed reply (${why})`);

let lastSeq = Math.floor(Date.now() / 1000) & 0x7fffffff;

/** A NETLINK_ROUTE socket of the calling thread's network namespace (the one it had at open). */
export class NetlinkSocket {
  private constructor(readonly fd: number) {}

  static open(): NetlinkSocket {
    const fd = check(func('int socket(int domain, int type, int protocol)')(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), 'socket', 'AF_NETLINK');
    // Errors without a copy of our request (CAP_ACK) and with the kernel's text (EXT_ACK).
    // Both are optional: kernels before 4.3 / 4.12 (EL7's 3.10) refuse them, and errors then
    // carry the errno only.
    const one = Buffer.alloc(4);
    one.writeInt32LE(1, 0);
    const setsockopt = func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, one, 4);
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, one, 4);
    return new NetlinkSocket(fd);
  }

  /**
   * Send one request (its header's seq is written here) and read until it is finished; the
   * reply's data messages are returned. `op` names the operation in errors. After a malformed
   * reply the rest of it may still be queued: close the socket rather than reuse it.
   */
  request(msg: Buffer, op: string): NlMsg[] {
    const seq = lastSeq = (lastSeq + 1) & 0x7fffffff;
    msg.writeUInt32LE(seq, 8);
    const sent = Number(func('long send(int fd, const void *buf, size_t len, int flags)')(this.fd, msg, msg.length, 0));
    if (sent < 0) throw new NetlinkError(op, errno());
    if (sent !== msg.length) throw bad(op, `sent ${sent} of ${msg.length} bytes`);
    const recvfrom = func('long recvfrom(int fd, void *buf, size_t len, int flags, void *src, void *srclen)');
    const buf = Buffer.alloc(65536), src = Buffer.alloc(12), srclen = Buffer.alloc(4);
    const out: NlMsg[] = [];
    for (;;) {
      srclen.writeUInt32LE(src.length, 0);
      // MSG_TRUNC: the datagram's real length, so that one larger than our buffer is an error, not a silent cut.
      const n = Number(recvfrom(this.fd, buf, buf.length, MSG_TRUNC, src, srclen));
      if (n < 0) {
        const e = errno();
        if (e === 4) continue; // EINTR
        throw new NetlinkError(op, e);
      }
      if (n > buf.length) throw bad(op, `datagram of ${n} bytes`);
      // Only the kernel (port 0) may answer: another process of this namespace could send to our port.
      if (srclen.readUInt32LE(0) < 12 || src.readUInt16LE(0) !== AF_NETLINK || src.readUInt32LE(4) !== 0) continue;
      const { msgs, done } = parseReplies(buf.subarray(0, n), seq, op);
      out.push(...msgs);
      if (done) return out;
    }
  }

  close(): void {
    func('int close(int fd)')(this.fd);
  }
}
