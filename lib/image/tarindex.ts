// The member index of a tar file, read by seeking from header to header: a docker-save or
// OCI-layout archive of any size is imported member by member, never extracted whole nor
// held in memory. ustar names (with their prefix), PAX path/linkpath/size records and GNU
// long names; sizes in octal or base-256.
import * as fs from 'node:fs';

export interface Member { name: string; type: 'file' | 'dir' | 'symlink' | 'link' | 'other'; offset: number; size: number; linkpath?: string }

const TYPES: Record<string, Member['type']> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '5': 'dir' };

/** "./a//b/" → "a/b" */
export const normalize = (p: string) => p.split('/').filter((x) => x && x !== '.').join('/');

function num(field: Buffer): number {
  if (field[0] & 0x80) { // base-256, big-endian, for sizes of 8 GiB and more
    let n = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i];
    return n;
  }
  const s = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return s ? parseInt(s, 8) : 0;
}

function readAt(fd: number, len: number, pos: number): Buffer {
  const b = Buffer.alloc(len);
  let n = 0;
  while (n < len) {
    const r = fs.readSync(fd, b, n, len - n, pos + n);
    if (r === 0) break;
    n += r;
  }
  return b.subarray(0, n);
}

/** Every member by normalized name (the last one wins, as when extracting). */
export function tarIndex(file: string): Map<string, Member> {
  const index = new Map<string, Member>();
  const fd = fs.openSync(file, 'r');
  try {
    const end = fs.fstatSync(fd).size;
    let pax: Record<string, string> = {};
    let longName: string | undefined, longLink: string | undefined;
    for (let off = 0; off + 512 <= end;) {
      const h = readAt(fd, 512, off);
      if (h.length < 512 || h.every((b) => b === 0)) break;
      const text = (o: number, l: number) => h.subarray(o, o + l).toString('utf8').replace(/\0.*$/s, '');
      const type = String.fromCharCode(h[156]);
      let size = num(h.subarray(124, 136));
      const data = off + 512;
      const next = data + Math.ceil(size / 512) * 512;
      if (type === 'x' || type === 'L' || type === 'K') {
        if (size > 1 << 20) throw new Error(`a ${size}-byte extended header`);
        const body = readAt(fd, size, data).toString('utf8');
        if (type === 'L') longName = body.replace(/\0.*$/s, '');
        else if (type === 'K') longLink = body.replace(/\0.*$/s, '');
        else for (const m of body.matchAll(/(\d+) ([^=]+)=([^\n]*)\n/g)) pax[m[2]] = m[3];
        off = next;
        continue;
      }
      if (type === 'g') { off = next; continue; }
      const ustar = h.subarray(257, 263).toString('latin1') === 'ustar\0';
      const name = pax.path ?? longName ?? ((ustar && text(345, 155) ? text(345, 155) + '/' : '') + text(0, 100));
      const linkpath = pax.linkpath ?? longLink ?? text(157, 100);
      if (pax.size !== undefined) size = Number(pax.size);
      const t = TYPES[type] ?? 'other';
      index.set(normalize(name), { name: normalize(name), type: t, offset: data, size: t === 'file' ? size : 0, linkpath: t === 'link' || t === 'symlink' ? linkpath : undefined });
      pax = {}; longName = longLink = undefined;
      off = data + Math.ceil(size / 512) * 512;
    }
  } finally {
    fs.closeSync(fd);
  }
  return index;
}

/**
 * The regular file `rel` names inside the archive, following symlinks and hard links the
 * archive carries as the kernel would inside a root (absolute targets and ".." stay in the
 * archive). Undefined when nothing is there; throws when it is not a regular file.
 */
export function lookup(index: Map<string, Member>, rel: string): Member | undefined {
  let parts = rel.split('/').filter((x) => x && x !== '.');
  let hops = 0;
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '..') { const back = i > 0 ? 1 : 0; parts.splice(i - back, 1 + back); i -= 1 + back; continue; }
    const m = index.get(parts.slice(0, i + 1).join('/'));
    if (m?.type !== 'symlink' && !(m?.type === 'link' && i === parts.length - 1)) continue;
    if (++hops > 40) throw new Error(`${rel}: too many levels of symbolic links`);
    const target = m.linkpath ?? '';
    // a hard link's target is named from the archive's root; a symlink's from its directory
    const base = m.type === 'link' || target.startsWith('/') ? [] : parts.slice(0, i);
    parts = [...base, ...target.split('/').filter((x) => x && x !== '.'), ...parts.slice(i + 1)];
    i = -1;
  }
  const m = index.get(parts.join('/'));
  if (!m) return undefined;
  if (m.type !== 'file') throw new Error(`${rel}: not a regular file`);
  return m;
}
