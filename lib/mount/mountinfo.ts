// /proc/self/mountinfo, parsed: what the fallbacks for old kernels (no mount_setattr) and the
// --no-pivot clean-up need to know about the mounts of the stage's namespace.
import { libc } from '../libc/seam';
import { MS } from '../libc/constants';

export interface MountEntry {
  id: number; parent: number;
  /** The path inside its filesystem that is mounted: "/" for a whole proc or sysfs. */
  root: string;
  mountpoint: string;
  /** Per-mount options: rw/ro, nosuid, nodev, noexec, atime flags. */
  options: string;
  fstype: string;
}

/** The kernel escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));

export function readMountinfo(file = '/proc/self/mountinfo'): MountEntry[] {
  return parseMountinfo(libc.readFile(file));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const dash = f.indexOf('-', 6); // optional fields (shared:N, master:N) come before the "-"
    out.push({ id: Number(f[0]), parent: Number(f[1]), root: unescape(f[3]), mountpoint: unescape(f[4]), options: f[5], fstype: f[dash + 1] });
  }
  return out;
}

const FLAG: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC,
  noatime: 1024, nodiratime: 2048, relatime: MS.RELATIME, strictatime: MS.STRICTATIME,
};

/**
 * A mount's per-mount options as MS_* flags. A bind remount replaces all of them, so it must
 * pass the ones to keep: dropping a locked one (nosuid, nodev… in a user namespace) is EPERM.
 */
export function mountFlags(options: string): number {
  return options.split(',').reduce((acc, o) => acc | (FLAG[o] ?? 0), 0);
}

/** `p` itself or anything below it. */
export const under = (p: string, base: string) => p === base || p.startsWith(base === '/' ? '/' : base + '/');
