// The idle supervisor gives back what it does not need while nothing happens: a host may
// run it for days under a hundred quiet containers, and its resident memory is the whole
// of box's per-container cost (issue 14: at most conmon's at N=100). Node's own start-up
// leaves ~34 MiB of binary and library pages mapped (node's text, ICU data) and a few MiB
// of free malloc and V8 heap; a supervisor waiting in epoll needs almost none of it.
//
// After TRIM_AFTER_MS without a client or a container event: a full V8 collection,
// malloc_trim(0), and MADV_PAGEOUT of the file-backed mappings, which unmaps the clean
// file pages only this process maps (pages shared with another process — a pooled stage,
// any other Node — are left alone by the kernel) so that they stop counting as ours; they
// fault back in, from the page cache or the file, when the supervisor works again (a few
// ms on its next request). Anonymous memory is not paged out: without swap that is a no-op,
// with swap it would make every wake-up slow. On a kernel before 5.4 the madvise fails
// (EINVAL) and only the GC and malloc_trim take effect.
import * as fs from 'node:fs';
import { madvise, mallocTrim, MADV_PAGEOUT } from '../libc/memory';

export const TRIM_AFTER_MS = 10000;
let timer: NodeJS.Timeout | undefined;
let gc: (() => void) | undefined;

/** Something happened: trim again once things have been quiet for TRIM_AFTER_MS. */
export function noteActivity() {
  if (timer) clearTimeout(timer);
  timer = setTimeout(trimNow, TRIM_AFTER_MS);
  timer.unref(); // never the reason the supervisor stays
}

/** Each file-backed mapping of this process: [start, length] (anonymous, [heap], [stack], vdso excluded). */
export function fileMappings(maps: string): [number, number][] {
  const out: [number, number][] = [];
  for (const line of maps.split('\n')) {
    // 00400000-00b6f000 r--p 00000000 fe:01 1234  /usr/bin/node
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s+(\/.*)$/.exec(line);
    if (!m || m[3] === '0') continue; // inode 0: not a file
    const start = parseInt(m[1], 16), end = parseInt(m[2], 16);
    if (end > start) out.push([start, end - start]);
  }
  return out;
}

/** RSS and its anonymous part, kB, from /proc/self/status. */
function rss(): { rss: number; anon: number } {
  const st = fs.readFileSync('/proc/self/status', 'latin1');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(st)?.[1] ?? 0);
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
}

/** Trim now; one line in the supervisor's log (RUN/supervisor.log) says what it gave back. */
export function trimNow() {
  timer = undefined;
  const before = rss();
  try {
    // V8 frees its empty pages after a full collection; `gc` is only reachable through this flag
    if (!gc) {
      require('node:v8').setFlagsFromString('--expose-gc');
      gc = require('node:vm').runInNewContext('gc');
    }
    gc!();
  } catch { /* a Node without the flag: skip */ }
  try { mallocTrim(); } catch { /* not glibc (musl has no malloc_trim) */ }
  let maps = '';
  try { maps = fs.readFileSync('/proc/self/maps', 'latin1'); } catch { return; }
  let refused = 0;
  for (const [addr, len] of fileMappings(maps)) if (madvise(addr, len, MADV_PAGEOUT) !== 0) refused++;
  const after = rss(), mib = (kb: number) => (kb / 1024).toFixed(1);
  process.stderr.write(`${new Date().toISOString()} box-supervisor: idle, trimmed: RSS ${mib(before.rss)} → ${mib(after.rss)} MiB (anonymous ${mib(before.anon)} → ${mib(after.anon)})${refused ? `; MADV_PAGEOUT refused for ${refused} mappings (kernel < 5.4?)` : ''}\n`);
}
