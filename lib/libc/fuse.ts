// /dev/fuse for the procview server (lib/procview): open, mount, the one blocking read, replies.
//
// Why the read goes through koffi's async call: a read on /dev/fuse blocks until the kernel
// has a request, and Node cannot watch a character device for readiness (libuv calls it a
// "file", so net.Socket refuses it and fs.read runs a blocking read on the pool anyway).
// `readAsync` runs read(2) on one libuv pool thread and calls back on the main thread; the
// event loop never blocks, and the server (lib/procview/server.ts) keeps exactly one read
// outstanding. Costs and traps (DESIGN.md §1): that read pins one of the pool's 4 threads for
// the server's lifetime; the pool is created lazily on the first async call, which must not
// happen while the calling thread sits in a fresh pid ns (unshare(CLONE_NEWPID) before spawn)
// — it cannot: JS runs one thing at a time and box's unshare → spawn → setns is synchronous.
import * as fs from 'node:fs';
import { func, check, errno } from './core';

const POLLIN = 0x1, POLLERR = 0x8;

/** Open /dev/fuse (Node opens with O_CLOEXEC: a spawned child must never hold the connection, see server.ts). */
export const openFuseDevice = (): number => fs.openSync('/dev/fuse', fs.constants.O_RDWR);

/**
 * read(fd, buf, buf.length) on a libuv pool thread; `done(n)` on the main thread with the
 * byte count or -1. errno of a pool thread cannot be read from here: callers that get -1 ask
 * `fuseConnectionGone` what it meant.
 */
export function readAsync(fd: number, buf: Buffer, done: (n: number) => void): void {
  const read: any = func('long read(int fd, void *buf, size_t count)');
  read.async(fd, buf, buf.length, (err: unknown, n: number | bigint) => done(err ? -1 : Number(n)));
}

/**
 * One reply in one write(2), as the kernel wants. Returns 0 or the errno: ENOENT when the
 * request was interrupted and is gone (normal), ENODEV/ENOTCONN once the connection ended.
 */
export function writeReply(fd: number, reply: Buffer): number {
  const n = Number(func('long write(int fd, const void *buf, size_t count)')(fd, reply, reply.length));
  return n < 0 ? errno() : 0;
}

/** poll(fd, 0 ms): POLLERR on /dev/fuse means the connection was aborted or unmounted (fuse_dev_poll). */
export function fuseConnectionGone(fd: number): boolean {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLIN, 4);
  const r = check(func('int poll(void *fds, unsigned long nfds, int timeout)')(pfd, 1, 0), 'poll', '/dev/fuse');
  return r > 0 && (pfd.readInt16LE(6) & POLLERR) !== 0;
}
