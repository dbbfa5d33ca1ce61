// Tarball → directory, through the `tar` package (node-tar): it handles gzip, long names,
// hard links and symlinks, owners and modes, and refuses entries that would land outside
// the target (`..`, absolute paths, writes through symlinks) — all hard to get right by hand.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function extractTarball(bytes: Buffer, dest: string) {
  const tar = require('tar') as typeof import('tar');
  const tmp = path.join(os.tmpdir(), `box-layer-${process.pid}-${Date.now()}.tar`);
  fs.writeFileSync(tmp, bytes, { mode: 0o600 });
  const problems: string[] = [];
  try {
    tar.x({
      file: tmp, cwd: dest, sync: true, strict: true,
      preserveOwner: process.geteuid?.() === 0, unlink: true, noMtime: false,
      onwarn: (_code: string, message: string) => problems.push(message),
    } as any);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  if (problems.length) throw new Error(problems[0]);
}
