// Resolve a container path against the rootfs the way the container will see it: every
// symlink is followed inside `root`, so an image with `/vol -> /etc` (or `../../..`) cannot
// make box create directories or mount over host paths.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function secureJoin(root: string, unsafe: string): string {
  let resolved = '/';
  const todo = unsafe.split('/').filter(Boolean);
  let links = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') { resolved = path.posix.dirname(resolved); continue; }
    const candidate = path.posix.join(resolved, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(path.join(root, candidate));
    } catch {
      resolved = candidate; // missing: the rest will be created under it
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++links > 40) throw new Error(`too many symlinks resolving ${unsafe}`);
      const target = fs.readlinkSync(path.join(root, candidate));
      if (target.startsWith('/')) resolved = '/';
      todo.unshift(...target.split('/').filter(Boolean));
    } else {
      resolved = candidate;
    }
  }
  return path.join(root, resolved);
}
