// Tarball → directory, safely and faithfully. A rootfs keeps absolute symlinks
// (/bin/sh -> /bin/busybox, /etc/mtab -> /proc/mounts) that must stay as they are, which
// node-tar's own path checks would rewrite; so, like Docker's chrootarchive, box unpacks
// in a helper process chrooted into the target: there an absolute path, a "..", a
// symlink written through or a hard link to "/etc/passwd" all resolve inside the
// target, and the host cannot be reached whatever the archive holds.
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { selfScript } from '../process/launch';
import * as libc from '../libc';

export function extractTarball(bytes: Buffer, dest: string) {
  const r = spawnSync(process.execPath, [...process.execArgv, selfScript(), '__untar', dest], { input: bytes, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error((r.stderr || `unpacking failed (status ${r.status})`).trim().split('\n').pop());
}

/** `__untar DEST`: the helper. Reads the archive (tar or tar.gz) from stdin. */
export async function untarHelper(dest: string): Promise<number> {
  const tar = require('tar') as typeof import('tar'); // loaded before chroot: nothing is required after it
  const input = fs.readFileSync(0);
  libc.chroot(dest);
  libc.chdir('/');
  const problems: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const x = tar.x({
      cwd: '/', preservePaths: true, preserveOwner: process.geteuid?.() === 0, unlink: true,
      onwarn: (code: string, message: string) => { if (code !== 'TAR_ENTRY_INFO') problems.push(message); },
    } as any);
    x.on('error', reject);
    x.on('close', resolve);
    x.end(input);
  }).catch((e) => problems.push(e.message));
  if (problems.length) {
    process.stderr.write(`invalid archive: ${problems[0]}\n`);
    return 1;
  }
  return 0;
}
