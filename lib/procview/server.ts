// The procview FUSE server: one /dev/fuse connection, one mount, answers for every container
// by the caller's pid (views.ts). Runs in a long-lived host process (the supervisor) and never
// blocks its event loop: one read(2) of /dev/fuse waits on a libuv pool thread
// (lib/libc/fuse.ts), each request is answered synchronously on the main thread, then the
// next read is queued.
//
// Containment: the server is root on the host and every request comes from a container
// process, so each one is treated as hostile —
// - lengths: a request must be exactly the bytes read, each body at least its struct's size
//   (protocol.ts); names are NUL-terminated and ≤255 bytes; READ sizes are capped (MAX_READ),
//   offsets past the end give an empty read;
// - node ids are looked up in a fixed table (tree.ts), anything else ENOENT; a name from a
//   request is never used as a path, and no file of the server's is opened on a request's behalf;
// - read-only: mounted MS_RDONLY with default_permissions (the kernel checks 0444/0555),
//   and OPEN refuses any write access or O_TRUNC with EROFS;
// - open-file state (the text served to one open file) is bounded per pid namespace and in
//   total, so one container cannot pin the server's memory (ENFILE beyond);
// - a slow reader cannot hold the server: nothing here waits for a reader — the kernel queues
//   requests, each answer is a single non-blocking write — and the work per request is
//   bounded (caller.ts's MAX_TASKS/MAX_CGROUPS). A container that floods requests shares
//   the one queue with the others (FIFO); it slows them, it does not stop them.
// - The /dev/fuse fd is O_CLOEXEC: a child spawned by the supervisor must not hold the
//   connection, or the server's death would leave readers waiting instead of failing fast.
// - The server process must never touch its own mountpoint on the main thread (stat, read,
//   readdir): the request would wait for an answer only that thread can give — a deadlock.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mount, umount2 } from '../libc';
import { MS, MNT_DETACH } from '../libc/constants';
import { openFuseDevice, readAsync, writeReply, fuseConnectionGone } from '../libc/fuse';
import * as P from './protocol';
import { node, isDir, lookup, attr, listing, FileKind } from './tree';
import { render } from './views';
import { OpenFiles, pidNs } from './open-files';

/** Seconds the kernel may cache names and attributes: the tree never changes. */
const VALID = 60;

export interface ProcViewOptions {
  /** Called with one line per problem worth knowing (a malformed request, a failed reply); never with request contents beyond numbers. */
  log?: (line: string) => void;
  /** Tests: compute a file's text (default: views.ts's render). */
  render?: (kind: FileKind, pid: number) => string;
}

export interface AttachOptions extends ProcViewOptions {
  /** The connection was set up (INIT answered) by a server before this one. */
  initialized: boolean;
}

export class ProcViewServer {
  readonly requests = { total: 0, errors: 0 };
  private fd: number;
  private buf = Buffer.alloc(P.READ_BUFFER);
  private files: OpenFiles;
  private ready = false;
  private closing = false;
  private connId?: string;
  private ended!: Promise<void>;
  private endedResolve!: () => void;
  private readyWait!: { resolve: () => void; reject: (e: Error) => void };
  private log: (l: string) => void;
  private renderFn: (kind: FileKind, pid: number) => string;
  private mtime = Math.floor(Date.now() / 1000);

  private constructor(readonly mountpoint: string, opts: ProcViewOptions, fd?: number) {
    this.log = opts.log ?? (() => {});
    this.renderFn = opts.render ?? render;
    this.files = new OpenFiles(this.renderFn, this.log);
    this.fd = fd ?? openFuseDevice();
    this.ended = new Promise((r) => { this.endedResolve = r; });
  }

  /**
   * Mount a procview tree on `mountpoint` (an existing, empty directory the caller owns) and
   * serve it; resolves once the kernel's INIT is answered.
   */
  static async start(mountpoint: string, opts: ProcViewOptions = {}): Promise<ProcViewServer> {
    const s = new ProcViewServer(mountpoint, opts);
    const ready = new Promise<void>((resolve, reject) => { s.readyWait = { resolve, reject }; });
    try {
      // allow_other: container processes run as any uid, in no user namespace of ours; without
      // it the kernel refuses everyone but uid 0. rootmode 40555: the root is a read-only dir.
      mount('box-procview', mountpoint, 'fuse', MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC,
        `fd=${s.fd},rootmode=40555,user_id=0,group_id=0,allow_other,default_permissions`);
    } catch (e) {
      fs.closeSync(s.fd);
      throw e;
    }
    s.connId = connectionOf(mountpoint);
    s.readNext();
    await ready;
    return s;
  }

  /**
   * Serve a connection another process mounted and holds (`fd`: its /dev/fuse fd, passed to
   * this one): how a server can be restarted under live mounts — while any process holds the
   * fd the kernel keeps the connection, and queues requests until someone reads them. A
   * request the dead server had read but not answered is lost: its reader waits until killed
   * (or until the kernel's request timeout, Linux 6.14+, aborts the connection). See
   * 40-procview's test.
   */
  static async attach(fd: number, mountpoint: string, opts: AttachOptions): Promise<ProcViewServer> {
    const s = new ProcViewServer(mountpoint, opts, fd);
    const ready = new Promise<void>((resolve, reject) => { s.readyWait = { resolve, reject }; });
    s.connId = connectionOf(mountpoint);
    if (opts.initialized) { s.ready = true; s.readyWait.resolve(); }
    s.readNext();
    await ready;
    return s;
  }

  /** Resolves when the connection has ended (unmounted, aborted) and the device fd is closed. */
  get done(): Promise<void> { return this.ended; }

  /**
   * Unmount (lazily: open files keep the connection until closed) and end. If files stay open
   * for `forceAfterMs`, abort the connection (their reads then fail with ENOTCONN).
   */
  async close(forceAfterMs = 500): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      try { umount2(this.mountpoint, MNT_DETACH); } catch (e: any) { this.log(`procview: umount ${this.mountpoint}: ${e.message}`); }
      const t = setTimeout(() => this.abort(), forceAfterMs);
      this.ended.finally(() => clearTimeout(t));
    }
    return this.ended;
  }

  /** The fuse control filesystem's abort file, on a private mount of it (fusectl is one instance: this mounts the host's view of it only here, then unmounts). */
  private abort() {
    if (!this.connId) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'box-fusectl-'));
    try {
      mount('fusectl', dir, 'fusectl', MS.NOSUID | MS.NODEV | MS.NOEXEC);
      try { fs.writeFileSync(path.join(dir, this.connId, 'abort'), '1'); } finally { umount2(dir, MNT_DETACH); }
    } catch (e: any) {
      this.log(`procview: cannot abort connection ${this.connId}: ${e.message}`);
    } finally {
      fs.rmdirSync(dir);
    }
  }

  private readNext() {
    readAsync(this.fd, this.buf, (n) => {
      if (n > 0) {
        try { this.handle(n); } catch (e: any) { this.requests.errors++; this.log(`procview: ${e.message}`); }
        this.readNext();
      } else if (fuseConnectionGone(this.fd) || this.closing) {
        this.end();
      } else {
        this.requests.errors++;
        setTimeout(() => this.readNext(), 10); // EINTR or an interrupted request: try again, without spinning
      }
    });
  }

  private end() {
    try { fs.closeSync(this.fd); } catch { /* closed */ }
    this.files = new OpenFiles(this.renderFn, this.log);
    if (!this.ready) this.readyWait.reject(new Error(`procview: the kernel ended the connection on ${this.mountpoint} before INIT`));
    this.endedResolve();
  }

  private send(unique: bigint, error: number, payload?: Buffer) {
    if (error) this.requests.errors++;
    const err = writeReply(this.fd, P.reply(unique, error, payload));
    if (err && err !== P.E.NOENT) this.log(`procview: reply failed (errno ${err})`);
  }

  private handle(n: number) {
    this.requests.total++;
    const h = P.parseHeader(this.buf, n);
    if (!h) { this.requests.errors++; this.log(`procview: malformed request of ${n} bytes`); return; }
    const body = this.buf.subarray(P.IN_HEADER, n);
    const op = h.opcode;
    // No answer, by the protocol: forgets (our nodes are fixed), interrupts (every request is answered at once anyway).
    if (op === P.OP.FORGET || op === P.OP.BATCH_FORGET || op === P.OP.INTERRUPT) return;
    if (op === P.OP.INIT) return this.init(h.unique, body);
    if (!this.ready) return this.send(h.unique, P.E.IO);
    const nd = node(h.nodeid);
    switch (op) {
      case P.OP.LOOKUP: {
        const name = P.parseName(body);
        const child = nd && isDir(nd) && name !== undefined ? lookup(nd, name) : undefined;
        return child ? this.send(h.unique, 0, P.entryOut(attr(child, this.mtime), VALID)) : this.send(h.unique, P.E.NOENT);
      }
      case P.OP.GETATTR:
        return nd ? this.send(h.unique, 0, P.attrOut(attr(nd, this.mtime), VALID)) : this.send(h.unique, P.E.NOENT);
      case P.OP.OPEN: return this.open(h, body);
      case P.OP.READ: return this.read(h, body);
      case P.OP.RELEASE: {
        const r = P.parseRelease(body);
        if (r) this.files.drop(r.fh);
        return this.send(h.unique, 0);
      }
      case P.OP.OPENDIR:
        if (!nd) return this.send(h.unique, P.E.NOENT);
        return isDir(nd) ? this.send(h.unique, 0, P.openOut(0n, 0)) : this.send(h.unique, P.E.NOTDIR);
      case P.OP.READDIR: {
        const r = P.parseRead(body);
        if (!nd || !r) return this.send(h.unique, nd ? P.E.INVAL : P.E.NOENT);
        if (!isDir(nd)) return this.send(h.unique, P.E.NOTDIR);
        return this.send(h.unique, 0, P.dirents(listing(nd), r.offset, Math.min(r.size, P.MAX_READ)));
      }
      case P.OP.RELEASEDIR: return this.send(h.unique, 0);
      case P.OP.STATFS: return this.send(h.unique, 0, P.statfsOut()); // df inside a container lists bind mounts: answer, with zeros
      case P.OP.DESTROY:
        this.send(h.unique, 0);
        this.closing = true;
        return;
      default: return this.send(h.unique, P.E.NOSYS); // the kernel remembers ENOSYS for FLUSH, ACCESS, xattrs… and stops asking
    }
  }

  private init(unique: bigint, body: Buffer) {
    const i = P.parseInit(body);
    if (!i || i.major !== P.FUSE_MAJOR || i.minor < 12) {
      this.send(unique, P.E.PROTO);
      this.readyWait.reject(new Error(`procview: unsupported FUSE protocol ${i ? `${i.major}.${i.minor}` : '(short INIT)'}`));
      return;
    }
    const minor = Math.min(i.minor, P.OUR_MINOR);
    this.send(unique, 0, P.initOut(minor, i.maxReadahead));
    this.ready = true;
    this.readyWait.resolve();
  }

  private open(h: P.InHeader, body: Buffer) {
    const nd = node(h.nodeid);
    const o = P.parseOpen(body);
    if (!nd) return this.send(h.unique, P.E.NOENT);
    if (!o) return this.send(h.unique, P.E.INVAL);
    if (isDir(nd)) return this.send(h.unique, P.E.ISDIR);
    // open-files.ts: write access refused (EROFS), budgets per pid namespace; the node id stands for the connection, so a handle reads only its own file
    const res = this.files.open(nd.ino, nd.file!, pidNs(h.pid), o.flags);
    if ('error' in res) return this.send(h.unique, res.error);
    // direct_io: every read reaches us (size 0, as /proc's own files, would end page-cache reads at once) and nothing is cached.
    this.send(h.unique, 0, P.openOut(res.fh, P.FOPEN_DIRECT_IO));
  }

  private read(h: P.InHeader, body: Buffer) {
    const r = P.parseRead(body);
    if (!r) return this.send(h.unique, P.E.INVAL);
    // one consistent text per open file from a read at 0 on, kept within its namespace's budget (open-files.ts)
    const out = h.nodeid > 0n && h.nodeid < 1n << 31n ? this.files.read(Number(h.nodeid), r.fh, r.offset, r.size, h.pid) : P.E.BADF;
    if (typeof out === 'number') return this.send(h.unique, out);
    this.send(h.unique, 0, out);
  }

  /** Tests: bytes of kept text, per namespace. */
  get keptByNamespace(): ReadonlyMap<string, number> { return this.files.keptByNamespace; }
}

/** The fuse connection number of the mount at `mountpoint`: its st_dev minor (major is 0), read from mountinfo, never by stat (see the header). */
function connectionOf(mountpoint: string): string | undefined {
  let id: string | undefined;
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[4] === mountpoint && line.includes(' - fuse ')) id = f[2].split(':')[1]; // the last: the one on top
  }
  return id;
}

