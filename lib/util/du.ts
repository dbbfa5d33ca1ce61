// How many bytes a file tree holds, as `du --apparent-size` counts them: files and symlinks
// (not followed), a hard-linked file once. For prune's "Total reclaimed space" and ps's SIZE.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function diskUsage(p: string, seen = new Set<string>()): number {
  let st: fs.Stats;
  try { st = fs.lstatSync(p); } catch { return 0; } // gone meanwhile
  if (st.isDirectory()) {
    let n = 0;
    let ents: string[] = [];
    try { ents = fs.readdirSync(p); } catch { return 0; }
    for (const e of ents) n += diskUsage(path.join(p, e), seen);
    return n;
  }
  const key = `${st.dev}:${st.ino}`;
  if (seen.has(key)) return 0;
  seen.add(key);
  return st.size;
}
