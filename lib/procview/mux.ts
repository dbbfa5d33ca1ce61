// The procview server as containers use it: one FUSE connection per view file per container,
// each mounted by the container's own stage with a regular file as its root, straight over
// the real file (/proc/meminfo, …; lib/mount/plan.ts's 'procview' op) — nothing else of the
// connection is visible, and the mount lives and dies with the container's mount namespace.
// One ViewMux serves any number of such connections from one host process (lib/procview/host.ts):
// ONE poll(2) outstanding on ONE libuv pool thread for all of them plus a wake-up eventfd
// (lib/libc/seccomp-notify.ts's pollAsync, as the sysinfo handler), then, on the main thread,
// at most one request per ready connection per round (a container flooding its files gets its
// turn like the others), each read non-blocking (/dev/fuse opened O_NONBLOCK) and answered at once.
//
// Containment (every request comes from a container and is treated as hostile; see server.ts):
// lengths checked by protocol.ts; the only node is the root (id 1): any other id ENOENT,
// LOOKUP/OPENDIR/READDIR ENOTDIR, so no name from a request is ever used; read-only (mounted
// MS_RDONLY, default_permissions, mode 0444; OPEN for writing or O_TRUNC is EROFS); open
// files and kept text are budgeted per pid namespace across every connection (open-files.ts).
// A connection the kernel ended (unmount, abort, the container's mount namespace gone) polls
// POLLERR and reads ENODEV: closed here, its handles dropped.
//
// The serving process must never touch a view file itself on its main thread (it would wait
// for an answer only that thread can give): it never enters a container's mount namespace,
// so the files it sees are the host's.
import * as fs from 'node:fs';
import * as P from './protocol';
import { OpenFiles } from './open-files';
import type { FileKind } from './tree';
import { render } from './views';
import { eventFd, wake, drain, pollAsync } from '../libc/seccomp-notify';
import { writeReply } from '../libc/fuse';
import { Budget, VIEW_BUDGET } from './budget';

const VALID = 60;
/**
 * The size the files claim. Not 0 as /proc's: sendfile(2) and splice (busybox `cat` uses
 * sendfile) read a FUSE file through the page cache even with direct I/O, bounded by the
 * inode's size — 0 would make them read nothing. The first short read shrinks the inode's
 * size to what it got, so each OPEN raises it again (a FUSE_NOTIFY_STORE without data)
 * before it is answered; without FOPEN_KEEP_CACHE the open drops the cached pages, so every
 * open reads afresh, and a plain read(2) goes straight to the server (direct I/O) anyway.
 */
export const CLAIMED_SIZE = 4 * 1024 * 1024;
const ROOT = 1n;
const ENODEV = 19;

/**
 * One connection: `pid` is the container's PID 1 as the host sees it, whose cgroups every view
 * is rendered from. Not the request's pid: the kernel gives pids in the pid namespace of the
 * process that mounted (the stage, PID 1 of the container's), meaningless on the host — and a
 * number a container chose would be no basis for a /proc lookup anyway. `owner`: the unit of
 * the open-file budgets (the container).
 */
export interface Conn { fd: number; kind: FileKind; pid: () => number | undefined; owner: string; ready: boolean; requests: number }

export interface MuxOptions {
  log?: (l: string) => void;
  render?: (kind: FileKind, pid: number) => string;
  /** Requests per container per window (budget.ts); tests make it small. */
  budget?: Budget;
}

/**
 * The answer to one request on a file-root connection of `c.kind`: the reply to write, or
 * undefined (no reply by the protocol). Pure but for `files` (and the render it calls).
 */
export function respond(c: Conn, files: OpenFiles, buf: Buffer, n: number, mtime: number): { reply?: Buffer; notify?: Buffer; destroy?: boolean } {
  const h = P.parseHeader(buf, n);
  if (!h) return {};
  const body = buf.subarray(P.IN_HEADER, n);
  const op = h.opcode;
  const r = (error: number, payload?: Buffer) => ({ reply: P.reply(h.unique, error, payload) });
  if (op === P.OP.FORGET || op === P.OP.BATCH_FORGET || op === P.OP.INTERRUPT) return {};
  if (op === P.OP.INIT) {
    const i = P.parseInit(body);
    if (!i || i.major !== P.FUSE_MAJOR || i.minor < 12) return r(P.E.PROTO);
    c.ready = true;
    return r(0, P.initOut(Math.min(i.minor, P.OUR_MINOR), i.maxReadahead));
  }
  if (!c.ready) return r(P.E.IO);
  const isRoot = h.nodeid === ROOT;
  switch (op) {
    case P.OP.GETATTR:
      return isRoot ? r(0, P.attrOut({ ino: ROOT, mode: P.S_IFREG | 0o444, nlink: 1, mtime, size: CLAIMED_SIZE }, VALID)) : r(P.E.NOENT);
    case P.OP.LOOKUP: case P.OP.OPENDIR: case P.OP.READDIR:
      return r(isRoot ? P.E.NOTDIR : P.E.NOENT);
    case P.OP.OPEN: {
      const o = P.parseOpen(body);
      if (!isRoot) return r(P.E.NOENT);
      if (!o) return r(P.E.INVAL);
      const res = files.open(c.fd, c.kind, c.owner, o.flags);
      // direct_io: every read reaches us (size 0, as /proc's own files) and nothing is cached
      return 'error' in res ? r(res.error) : { ...r(0, P.openOut(res.fh, P.FOPEN_DIRECT_IO)), notify: P.notifyGrow(ROOT, CLAIMED_SIZE) };
    }
    case P.OP.READ: {
      const rd = P.parseRead(body);
      if (!rd) return r(P.E.INVAL);
      if (!isRoot) return r(P.E.BADF);
      const out = files.read(c.fd, rd.fh, rd.offset, rd.size, c.pid() ?? 0);
      return typeof out === 'number' ? r(out) : r(0, out);
    }
    case P.OP.RELEASE: {
      const rl = P.parseRelease(body);
      if (rl) files.drop(rl.fh);
      return r(0);
    }
    case P.OP.RELEASEDIR: return r(0);
    case P.OP.STATFS: return r(0, P.statfsOut());
    case P.OP.DESTROY: return { ...r(0), destroy: true };
    default: return r(P.E.NOSYS);
  }
}

export class ViewMux {
  readonly requests = { total: 0, errors: 0 };
  private conns = new Map<number, Conn & { onGone?: () => void }>();
  private files: OpenFiles;
  private wakeFd = eventFd();
  private polling = false;
  private doomed = new Set<number>();   // removed while a poll held them: closed when it returns
  private closed = false;
  private buf = Buffer.alloc(P.READ_BUFFER);
  private mtime = Math.floor(Date.now() / 1000);
  private log: (l: string) => void;
  private budget: Budget;
  private refill?: NodeJS.Timeout;       // a container was left out of the poll: wake when its window ends

  constructor(opts: MuxOptions = {}) {
    this.log = opts.log ?? (() => {});
    this.budget = opts.budget ?? new Budget(VIEW_BUDGET.perWindow, VIEW_BUDGET.windowMs);
    this.files = new OpenFiles(opts.render ?? render, this.log);
  }

  /**
   * Serve `fd` (a /dev/fuse fd opened O_NONBLOCK, already mounted: poll on an unmounted one
   * says POLLERR); the mux owns it from now and closes it. `onGone`: after the kernel ended it.
   */
  add(fd: number, kind: FileKind, of: { pid: () => number | undefined; owner: string }, onGone?: () => void) {
    if (this.closed) throw new Error('procview: the server is closed');
    this.conns.set(fd, { fd, kind, pid: of.pid, owner: of.owner, ready: false, requests: 0, onGone });
    if (this.polling) wake(this.wakeFd); else this.round();
  }

  /** Stop serving `fd` and close it (readers of its file then get ENOTCONN). */
  remove(fd: number) {
    if (!this.conns.delete(fd)) return;
    this.files.dropConnection(fd);
    if (this.polling) { this.doomed.add(fd); wake(this.wakeFd); } else fs.closeSync(fd);
  }

  get size() { return this.conns.size; }
  get openFiles() { return this.files.size; }

  /** Close everything (and keep the process's event loop free). */
  close() {
    this.closed = true;
    clearTimeout(this.refill);
    for (const fd of [...this.conns.keys()]) this.remove(fd);
    if (this.polling) wake(this.wakeFd); else this.finish();
  }

  private finish() {
    for (const fd of this.doomed) fs.closeSync(fd);
    this.doomed.clear();
    if (this.closed && this.wakeFd >= 0) { fs.closeSync(this.wakeFd); this.wakeFd = -1; }
  }

  private round() {
    this.finish();
    if (this.closed || !this.conns.size) return;
    this.polling = true;
    // containers over their budget (budget.ts) sit this window out; their readers wait meanwhile
    const fds = [...this.conns.values()].filter((c) => this.budget.allows(c.owner)).map((c) => c.fd);
    if (fds.length < this.conns.size && !this.refill) {
      this.refill = setTimeout(() => { this.refill = undefined; if (this.polling) wake(this.wakeFd); }, this.budget.msLeft());
      this.refill.unref();
    }
    pollAsync([this.wakeFd, ...fds], (ready) => {
      this.polling = false;
      this.finish();
      if (this.closed) return;
      for (const r of ready ?? []) {
        if (r.fd === this.wakeFd) { if (r.readable) drain(this.wakeFd); continue; }
        const c = this.conns.get(r.fd);
        if (!c) continue;
        if (r.readable) this.serveOne(c); // one request per connection per round
        else if (r.gone) this.ended(c);
      }
      this.round();
    });
  }

  private serveOne(c: Conn & { onGone?: () => void }) {
    let n: number;
    try { n = fs.readSync(c.fd, this.buf, 0, this.buf.length, null); } catch (e: any) {
      if (e.code === 'EAGAIN' || e.code === 'EINTR' || e.code === 'ENOENT') return; // nothing after all; an interrupted request
      return this.ended(c); // ENODEV: unmounted or aborted
    }
    if (n <= 0) return this.ended(c);
    this.requests.total++;
    c.requests++;
    this.budget.spend(c.owner);
    let out: ReturnType<typeof respond>;
    try { out = respond(c, this.files, this.buf, n, this.mtime); } catch (e: any) { this.requests.errors++; this.log(`procview: ${e.message}`); return; }
    if (out.notify) writeReply(c.fd, out.notify); // before the OPEN's answer: the size is back before anyone reads
    if (out.reply) {
      const err = writeReply(c.fd, out.reply);
      if (err === ENODEV) return this.ended(c);
      if (err && err !== P.E.NOENT) this.log(`procview: reply failed (errno ${err})`);
    }
    if (out.destroy) this.ended(c);
  }

  private ended(c: Conn & { onGone?: () => void }) {
    this.remove(c.fd);
    c.onGone?.();
  }
}

