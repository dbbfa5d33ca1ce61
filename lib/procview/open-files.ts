// The open files of a procview server and the text each one is being read from, with the
// budgets that keep a container from growing the server (server.ts's header says why each):
// at most MAX_HANDLES open files in all and MAX_HANDLES_PER_NS per pid namespace, and at
// most MAX_KEPT_BYTES_PER_NS of half-read text per pid namespace. Shared by every connection
// of a server (mux.ts: one connection per file per container), so a container cannot escape
// its budget by opening its files on several connections.
import * as fs from 'node:fs';
import type { FileKind } from './tree';
import { hostView } from './views';
import * as P from './protocol';

const O_ACCMODE = 3, O_RDONLY = 0, O_TRUNC = 0o1000;
// Per container: the budgets a hostile container meets. In all: only a backstop (a million
// handles need a thousand containers at their own cap) — a low one would let a few containers
// holding files open starve every other container of its view (ENFILE).
export const MAX_HANDLES = 1 << 20, MAX_HANDLES_PER_NS = 1024;
/**
 * Text kept for open files part-way through, per pid namespace: memory of the host process, not
 * charged to the container, so small — 1 MiB is five whole /proc/cpuinfo of a 200-CPU host
 * (~200 KiB; a container sees only its own CPUs) read half-way at once.
 */
export const MAX_KEPT_BYTES_PER_NS = 1024 * 1024;

interface Handle {
  conn: number; kind: FileKind; owner: string;
  content?: Buffer; ended?: boolean; kept?: number;
}

export class OpenFiles {
  private handles = new Map<bigint, Handle>();
  private perOwner = new Map<string, number>();
  private keptBytes = new Map<string, number>();
  private nextFh = 1n;

  constructor(
    private renderFn: (kind: FileKind, pid: number) => string,
    private log: (l: string) => void = () => {},
  ) {}

  /** OPEN of `kind` on connection `conn` for `owner` (the budget's unit) with `flags`: the file handle, or an errno. */
  open(conn: number, kind: FileKind, owner: string, flags: number): { fh: bigint } | { error: number } {
    if ((flags & O_ACCMODE) !== O_RDONLY || flags & O_TRUNC) return { error: P.E.ROFS };
    const count = this.perOwner.get(owner) ?? 0;
    if (count >= MAX_HANDLES_PER_NS || this.handles.size >= MAX_HANDLES) return { error: P.E.NFILE };
    const fh = this.nextFh++;
    this.handles.set(fh, { conn, kind, owner });
    this.perOwner.set(owner, count + 1);
    return { fh };
  }

  /**
   * READ (`pid`: whose cgroup the text is rendered from): the chunk, or an errno. The text is computed when a read starts at 0 and kept for
   * the reads that follow (one `cat` sees one consistent file); let go once a read reaches its
   * end; over its namespace's budget the file ends with the chunk being served.
   */
  read(conn: number, fh: bigint, offset: bigint, size: number, pid: number): Buffer | number {
    const hd = this.handles.get(fh);
    if (!hd || hd.conn !== conn) return P.E.BADF;
    if (offset === 0n) {
      this.release(hd);
      let text: string;
      try { text = this.renderFn(hd.kind, pid); } catch (e: any) { this.log(`procview: ${hd.kind}: ${e.message}`); text = hostView(hd.kind); } // never EIO
      hd.content = Buffer.from(text, 'latin1');
      hd.ended = false;
    }
    const content = hd.content;
    if (!content || hd.ended) return Buffer.alloc(0);
    const start = offset < BigInt(content.length) ? Number(offset) : content.length;
    const chunk = content.subarray(start, start + Math.min(size, P.MAX_READ));
    if (start + chunk.length >= content.length) {
      this.release(hd);
      hd.ended = true;
    } else if (!hd.kept) {
      const total = (this.keptBytes.get(hd.owner) ?? 0) + content.length;
      if (total > MAX_KEPT_BYTES_PER_NS) { hd.content = undefined; hd.ended = true; }
      else { this.keptBytes.set(hd.owner, total); hd.kept = content.length; }
    }
    return chunk;
  }

  /** RELEASE, or the connection's end (every handle of `conn`). */
  drop(fh: bigint) {
    const hd = this.handles.get(fh);
    if (!hd) return;
    this.release(hd);
    this.handles.delete(fh);
    const left = (this.perOwner.get(hd.owner) ?? 1) - 1;
    if (left > 0) this.perOwner.set(hd.owner, left); else this.perOwner.delete(hd.owner);
  }

  dropConnection(conn: number) {
    for (const [fh, hd] of this.handles) if (hd.conn === conn) this.drop(fh);
  }

  get size() { return this.handles.size; }
  get keptByNamespace(): ReadonlyMap<string, number> { return this.keptBytes; }

  private release(hd: Handle) {
    if (hd.kept) {
      const left = (this.keptBytes.get(hd.owner) ?? 0) - hd.kept;
      if (left > 0) this.keptBytes.set(hd.owner, left); else this.keptBytes.delete(hd.owner);
      hd.kept = 0;
    }
    hd.content = undefined;
  }
}

/** The caller's pid namespace ("pid:[4026531836]"): server.ts's unit of the budgets (its pids are the host's: it mounts on the host). */
export function pidNs(pid: number): string {
  try { return fs.readlinkSync(`/proc/${pid}/ns/pid`); } catch { return 'unknown'; }
}
