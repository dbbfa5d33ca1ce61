// Is overlayfs available? Loaded (listed in /proc/filesystems) or loadable as a module
// (mount(2) autoloads it). BOX_NO_OVERLAY=1 forces the plain-copy fallback (tests use it).
import * as fs from 'node:fs';
import * as os from 'node:os';

export function overlaySupported(): boolean {
  if (process.env.BOX_NO_OVERLAY === '1') return false;
  try {
    if (/\toverlay$/m.test(fs.readFileSync('/proc/filesystems', 'utf8'))) return true;
  } catch { /* no /proc? */ }
  return fs.existsSync(`/lib/modules/${os.release()}/kernel/fs/overlayfs`);
}
