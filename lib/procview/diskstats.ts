// /proc/diskstats with the container's own I/O: for each host device the cgroup did I/O on,
// reads, sectors read, writes and sectors written from blkio (v1) or io.stat (v2); the other
// columns (merges, times, in flight) have no per-cgroup figure and are 0. Devices the
// container never touched are left out, as lxcfs does.

export interface Io { rios: number; wios: number; rbytes: number; wbytes: number }

/** v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
export function parseIoStat(text: string): Map<string, Io> {
  const m = new Map<string, Io>();
  for (const line of text.split('\n')) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    if (!/^\d+:\d+$/.test(dev ?? '')) continue;
    const v = Object.fromEntries(kv.map((x) => x.split('=')).map(([k, n]) => [k, Number(n) || 0]));
    m.set(dev, { rios: v.rios ?? 0, wios: v.wios ?? 0, rbytes: v.rbytes ?? 0, wbytes: v.wbytes ?? 0 });
  }
  return m;
}

/** v1 blkio.*io_serviced* and *io_service_bytes*: "8:0 Read 123" lines, "Total" lines skipped. */
export function parseBlkio(serviced: string, bytes: string): Map<string, Io> {
  const m = new Map<string, Io>();
  const get = (dev: string) => m.get(dev) ?? (m.set(dev, { rios: 0, wios: 0, rbytes: 0, wbytes: 0 }), m.get(dev)!);
  const each = (text: string, fn: (io: Io, op: string, n: number) => void) => {
    for (const line of text.split('\n')) {
      const [dev, op, n] = line.trim().split(/\s+/);
      if (/^\d+:\d+$/.test(dev ?? '') && /^\d+$/.test(n ?? '')) fn(get(dev), op, Number(n));
    }
  };
  each(serviced, (io, op, n) => { if (op === 'Read') io.rios += n; else if (op === 'Write') io.wios += n; });
  each(bytes, (io, op, n) => { if (op === 'Read') io.rbytes += n; else if (op === 'Write') io.wbytes += n; });
  return m;
}

export function diskstats(host: string, io: Map<string, Io>): string {
  const out: string[] = [];
  for (const line of host.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const s = io.get(`${f[0]}:${f[1]}`);
    if (!s || s.rios + s.wios === 0) continue;
    const cols = new Array(f.length - 3).fill(0);
    cols[0] = s.rios; cols[2] = Math.floor(s.rbytes / 512); cols[4] = s.wios; cols[6] = Math.floor(s.wbytes / 512);
    out.push(`${f[0].padStart(4)} ${f[1].padStart(7)} ${f[2]} ${cols.join(' ')}`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
