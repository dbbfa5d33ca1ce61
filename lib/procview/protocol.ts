// The FUSE kernel protocol, the part a read-only tree of generated files needs. Layouts from
// include/uapi/linux/fuse.h (little-endian on x64 and arm64); every size below is checked
// against the bytes the kernel actually sent before a field is read (parse* return undefined
// on a short body), because the requests come from container processes (see server.ts).

/** What this server speaks: 7.31 (Linux 5.4+). The kernel's own minor may be higher (6.18: 7.44); the lower one wins. */
export const FUSE_MAJOR = 7, OUR_MINOR = 31;

export const OP = {
  LOOKUP: 1, FORGET: 2, GETATTR: 3, SETATTR: 4, OPEN: 14, READ: 15, WRITE: 16, STATFS: 17, RELEASE: 18,
  INIT: 26, OPENDIR: 27, READDIR: 28, RELEASEDIR: 29, ACCESS: 34, INTERRUPT: 36, DESTROY: 38,
  BATCH_FORGET: 42, READDIRPLUS: 44,
} as const;

export const E = { NOENT: 2, IO: 5, BADF: 9, ACCES: 13, NOTDIR: 20, ISDIR: 21, INVAL: 22, NFILE: 23, ROFS: 30, NOSYS: 38, PROTO: 71 } as const;

export const IN_HEADER = 40, OUT_HEADER = 16;
/** The largest request the kernel may send once we answer INIT with max_write 4096 (write_in + header + data), with room. */
export const MAX_WRITE = 4096;
/** The kernel refuses reads of /dev/fuse into less than FUSE_MIN_READ_BUFFER (8192) or header + write_in + max_write. */
export const READ_BUFFER = 64 * 1024;
/** Cap on the bytes one READ answer carries, whatever `size` the request asks. */
export const MAX_READ = 64 * 1024;

export const FOPEN_DIRECT_IO = 1 << 0, FOPEN_NONSEEKABLE = 1 << 2;
export const S_IFDIR = 0o040000, S_IFREG = 0o100000;
const DT_DIR = 4, DT_REG = 8;

export interface InHeader { len: number; opcode: number; unique: bigint; nodeid: bigint; uid: number; gid: number; pid: number }

/** The header of one request, or undefined when the bytes read are not a whole, consistent request. */
export function parseHeader(buf: Buffer, n: number): InHeader | undefined {
  if (n < IN_HEADER) return undefined;
  const len = buf.readUInt32LE(0);
  if (len !== n) return undefined; // one read returns exactly one request; anything else is not the kernel's
  return {
    len, opcode: buf.readUInt32LE(4), unique: buf.readBigUInt64LE(8), nodeid: buf.readBigUInt64LE(16),
    uid: buf.readUInt32LE(24), gid: buf.readUInt32LE(28), pid: buf.readUInt32LE(32),
  };
}

/** fuse_init_in: major, minor, max_readahead, flags (later minors append fields we ignore). */
export function parseInit(body: Buffer) {
  if (body.length < 16) return undefined;
  return { major: body.readUInt32LE(0), minor: body.readUInt32LE(4), maxReadahead: body.readUInt32LE(8), flags: body.readUInt32LE(12) };
}

/** fuse_open_in: flags (the open(2) flags), open_flags. */
export const parseOpen = (body: Buffer) => (body.length < 8 ? undefined : { flags: body.readUInt32LE(0) });

/** fuse_read_in: fh, offset, size (and read_flags, lock_owner, flags, padding: unused). */
export function parseRead(body: Buffer) {
  if (body.length < 24) return undefined;
  return { fh: body.readBigUInt64LE(0), offset: body.readBigUInt64LE(8), size: body.readUInt32LE(16) };
}

/** fuse_release_in: fh first. */
export const parseRelease = (body: Buffer) => (body.length < 8 ? undefined : { fh: body.readBigUInt64LE(0) });

/** A LOOKUP's name: the body up to its NUL, which must be there, at most 255 bytes. */
export function parseName(body: Buffer): string | undefined {
  const end = body.indexOf(0);
  if (end <= 0 || end > 255) return undefined;
  return body.subarray(0, end).toString('latin1');
}

export function reply(unique: bigint, error: number, payload?: Buffer): Buffer {
  const out = Buffer.alloc(OUT_HEADER + (payload?.length ?? 0));
  out.writeUInt32LE(out.length, 0);
  out.writeInt32LE(error ? -error : 0, 4);
  out.writeBigUInt64LE(unique, 8);
  if (payload) payload.copy(out, OUT_HEADER);
  return out;
}

/**
 * FUSE_NOTIFY_STORE with no data (fuse_notify_store_out: nodeid, offset, size 0): all it does
 * is raise the inode's size to `offset` if it is smaller (mux.ts says why).
 */
export function notifyGrow(nodeid: bigint, offset: number): Buffer {
  const out = Buffer.alloc(OUT_HEADER + 24);
  out.writeUInt32LE(out.length, 0);
  out.writeInt32LE(4, 4); // FUSE_NOTIFY_STORE; unique 0: a notification
  out.writeBigUInt64LE(nodeid, 16);
  out.writeBigUInt64LE(BigInt(offset), 24);
  return out;
}

/** fuse_init_out for the negotiated minor: 24 bytes before 7.23, 64 since. */
export function initOut(minor: number, maxReadahead: number): Buffer {
  const b = Buffer.alloc(minor < 23 ? 24 : 64);
  b.writeUInt32LE(FUSE_MAJOR, 0);
  b.writeUInt32LE(minor, 4);
  b.writeUInt32LE(maxReadahead, 8);
  b.writeUInt32LE(0, 12); // flags: nothing asked — no async reads, no writeback cache, no splice
  b.writeUInt16LE(1, 16); // max_background
  b.writeUInt16LE(1, 18); // congestion_threshold
  b.writeUInt32LE(MAX_WRITE, 20);
  if (minor >= 23) b.writeUInt32LE(1, 24); // time_gran: 1 ns
  return b;
}

export interface Attr { ino: bigint; mode: number; nlink: number; mtime: number; size?: number }

/** struct fuse_attr (88 bytes): uid/gid 0, size 0 as /proc's own files (reads go through direct I/O, open()). */
function writeAttr(b: Buffer, at: number, a: Attr) {
  b.writeBigUInt64LE(a.ino, at);
  b.writeBigUInt64LE(BigInt(a.size ?? 0), at + 8); // blocks 0
  for (const off of [24, 32, 40]) b.writeBigUInt64LE(BigInt(a.mtime), at + off); // atime, mtime, ctime
  b.writeUInt32LE(a.mode, at + 60);
  b.writeUInt32LE(a.nlink, at + 64);
  b.writeUInt32LE(4096, at + 80); // blksize
}

/** fuse_attr_out: attr_valid (s), attr_valid_nsec, dummy, attr. */
export function attrOut(a: Attr, validSec: number): Buffer {
  const b = Buffer.alloc(16 + 88);
  b.writeBigUInt64LE(BigInt(validSec), 0);
  writeAttr(b, 16, a);
  return b;
}

/** fuse_entry_out: nodeid, generation, entry_valid, attr_valid, their nsecs, attr. */
export function entryOut(a: Attr, validSec: number): Buffer {
  const b = Buffer.alloc(40 + 88);
  b.writeBigUInt64LE(a.ino, 0);
  b.writeBigUInt64LE(1n, 8);
  b.writeBigUInt64LE(BigInt(validSec), 16);
  b.writeBigUInt64LE(BigInt(validSec), 24);
  writeAttr(b, 40, a);
  return b;
}

/** fuse_open_out: fh, open_flags, padding. */
export function openOut(fh: bigint, openFlags: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(fh, 0);
  b.writeUInt32LE(openFlags, 8);
  return b;
}

export interface Dirent { ino: bigint; name: string; dir: boolean }

/**
 * READDIR's answer: the fuse_dirents from index `offset` on that fit in `size` bytes. Each
 * dirent's `off` is the index of the next one, which the kernel hands back as the next offset.
 */
export function dirents(entries: Dirent[], offset: bigint, size: number): Buffer {
  const parts: Buffer[] = [];
  let used = 0;
  for (let i = Number(offset < BigInt(entries.length) ? offset : BigInt(entries.length)); i < entries.length; i++) {
    const name = Buffer.from(entries[i].name, 'latin1');
    const len = (24 + name.length + 7) & ~7;
    if (used + len > size) break;
    const d = Buffer.alloc(len);
    d.writeBigUInt64LE(entries[i].ino, 0);
    d.writeBigUInt64LE(BigInt(i + 1), 8);
    d.writeUInt32LE(name.length, 16);
    d.writeUInt32LE(entries[i].dir ? DT_DIR : DT_REG, 20);
    name.copy(d, 24);
    parts.push(d);
    used += len;
  }
  return Buffer.concat(parts);
}

/** fuse_statfs_out (fuse_kstatfs, 80 bytes): no blocks, no files, bsize 4096, namelen 255 (df inside a container lists the view's mounts: it gets zeros). */
export function statfsOut(): Buffer {
  const b = Buffer.alloc(80);
  b.writeUInt32LE(4096, 40); // bsize
  b.writeUInt32LE(255, 44); // namelen
  b.writeUInt32LE(4096, 48); // frsize
  return b;
}
