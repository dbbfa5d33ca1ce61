// `box cp`'s tar streams (Docker's `-`), with node-tar's header and parser only: box never
// runs the host's tar binary, and never lets a library resolve a path — the entries come from
// and go to lib/container/cp.ts, which works on fds.
import * as path from 'node:path';
import type { Writable, Readable } from 'node:stream';
import { Entry, Kind, chunks } from './cp';
import { BoxError } from '../libc/errors';

const TYPE: Record<Kind, string> = { file: 'File', dir: 'Directory', symlink: 'SymbolicLink', fifo: 'FIFO', char: 'CharacterDevice', block: 'BlockDevice', link: 'Link' };
const KIND: Record<string, Kind> = { File: 'file', OldFile: 'file', ContiguousFile: 'file', Directory: 'dir', SymbolicLink: 'symlink', FIFO: 'fifo', CharacterDevice: 'char', BlockDevice: 'block', Link: 'link' };

/** Write `entries` as a tar stream on `out`, each named `prefix/rel` (directories with a trailing "/"). */
export async function writeTar(entries: Iterable<Entry>, prefix: string, out: Writable): Promise<void> {
  const tar = require('tar') as typeof import('tar');
  let broken: Error | undefined; // the reader went away (EPIPE): stop, one line, no stack
  const onError = (e: Error) => { broken = e; out.emit('drain'); };
  out.on('error', onError);
  const put = (b: Buffer) => {
    if (broken) throw new BoxError(`box cp: writing the archive: ${broken.message}`);
    return out.write(b) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r()));
  };
  await writeEntries(tar, entries, prefix, put); // the listener stays: box's own last write would meet the same EPIPE
  if (broken) throw new BoxError(`box cp: writing the archive: ${(broken as Error).message}`);
}

async function writeEntries(tar: typeof import('tar'), entries: Iterable<Entry>, prefix: string, put: (b: Buffer) => Promise<void>) {
  for (const e of entries) {
    let name = [prefix, e.rel].filter(Boolean).join('/') || '.';
    if (e.kind === 'dir') name += '/';
    const data = { path: name, mode: e.mode, uid: e.uid, gid: e.gid, size: e.kind === 'file' ? e.size : 0, mtime: e.mtime, type: TYPE[e.kind] as any, linkpath: e.linkpath, devmaj: e.devmajor ?? 0, devmin: e.devminor ?? 0 };
    const h = new tar.Header(data);
    // long names and links, big ids and sizes: a PAX header first, as node-tar's own writer does
    if (h.encode()) await put(new tar.Pax({ ...data, mtime: e.mtime } as any).encode());
    await put(h.block!);
    if (e.kind !== 'file') continue;
    let n = 0;
    for (const c of chunks(e)) { n += c.length; await put(c); }
    if (n % 512) await put(Buffer.alloc(512 - (n % 512)));
  }
  await put(Buffer.alloc(1024));
}

/**
 * Read a tar stream (gzip too), entry by entry: `onEntry` gets each one, named relative to the
 * archive's top and checked not to leave it, and returns where its data goes.
 */
export function readTar(input: Readable, onEntry: (e: Entry) => ((chunk: Buffer | null) => void) | undefined): Promise<void> {
  const tar = require('tar') as typeof import('tar');
  return new Promise((resolve, reject) => {
    let failed: Error | undefined;
    const fail = (e: any) => { if (!failed) { failed = e; input.unpipe(); input.resume(); reject(e); } };
    const p = new tar.Parser({ strict: true } as any);
    p.on('entry', (r: any) => {
      if (failed) return r.resume();
      try {
        const kind = KIND[r.type];
        if (!kind) { r.resume(); return; } // PAX/GNU metadata is applied by the parser; anything else is skipped
        const rel = inside(r.path);
        const e: Entry = { rel, kind, mode: (r.mode ?? 0o644) & 0o7777, uid: r.uid ?? 0, gid: r.gid ?? 0, mtime: r.mtime ?? new Date(), size: r.size ?? 0, linkpath: r.linkpath };
        if (kind === 'link') e.linkpath = inside(r.linkpath ?? '');
        if (kind === 'char' || kind === 'block') { e.devmajor = r.header?.devmaj; e.devminor = r.header?.devmin; }
        const sink = onEntry(e);
        if (!sink) { r.resume(); return; }
        r.on('data', (c: Buffer) => { if (!failed) try { sink(c); } catch (err) { fail(err); } });
        r.on('end', () => { if (!failed) try { sink(null); } catch (err) { fail(err); } });
      } catch (err) {
        r.resume();
        fail(err);
      }
    });
    p.on('error', fail);
    p.on('warn', (code: string, msg: string) => { if (code !== 'TAR_ENTRY_INFO') fail(new BoxError(`box cp: invalid archive: ${msg}`)); });
    p.on('end', () => { if (!failed) resolve(); });
    input.on('error', fail);
    input.pipe(p);
  });
}

/** An archive's name, relative to the extraction point: "..", absolute names and the like may not leave it (Docker: "breakout"). */
function inside(name: string): string {
  const rel = path.posix.normalize(name.replace(/\/+$/, '')).replace(/^(\.\/)+/, '');
  if (rel === '..' || rel.startsWith('../') || rel.startsWith('/')) throw new BoxError(`box cp: invalid archive: "${name}" is outside of the extraction point`);
  return rel === '.' ? '' : rel;
}
