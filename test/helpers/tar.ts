// A minimal ustar writer for tests that need archives no well-behaved tool would make
// (entries with "..", absolute names, writes through symlinks).
export interface Entry { name: string; type?: 'file' | 'dir' | 'symlink' | 'link' | 'chr' | 'blk' | 'fifo'; data?: string; link?: string; mode?: number; uid?: number; gid?: number; mtime?: number; major?: number; minor?: number }

export function tarball(entries: Entry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const h = Buffer.alloc(512);
    const data = Buffer.from(e.type === undefined || e.type === 'file' ? e.data ?? '' : '');
    const put = (s: string, off: number, len: number) => h.write(s, off, len, 'latin1');
    const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, '0') + '\0', off, len);
    put(e.name, 0, 100);
    oct(e.mode ?? (e.type === 'dir' ? 0o755 : 0o644), 100, 8);
    oct(e.uid ?? 0, 108, 8);
    oct(e.gid ?? 0, 116, 8);
    oct(data.length, 124, 12);
    oct(e.mtime ?? 0, 136, 12);
    put({ file: '0', dir: '5', symlink: '2', link: '1', chr: '3', blk: '4', fifo: '6' }[e.type ?? 'file'], 156, 1);
    if (e.link) put(e.link, 157, 100);
    put('ustar\u000000', 257, 8);
    if (e.type === 'chr' || e.type === 'blk') { oct(e.major ?? 0, 329, 8); oct(e.minor ?? 0, 337, 8); }
    h.fill(' ', 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
