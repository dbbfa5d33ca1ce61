// The one way box writes (and reads) a cgroup file. The kernel answers a bad value with a
// bare errno (ERANGE, EINVAL, EBUSY): the error names the file and the value, or nobody can
// tell which of a container's limits was refused.
import * as fs from 'node:fs';
import { SysError } from '../libc/errors';

export function writeCgroup(file: string, value: string | number): void {
  try {
    fs.writeFileSync(file, String(value));
  } catch (e: any) {
    if (typeof e.errno !== 'number') throw e;
    throw new SysError('cgroup', -e.errno, `${file}: cannot write "${value}"`);
  }
}

/** writeCgroup on a thread of libuv's pool. */
export async function writeCgroupAsync(file: string, value: string | number): Promise<void> {
  try {
    await fs.promises.writeFile(file, String(value));
  } catch (e: any) {
    if (typeof e.errno !== 'number') throw e;
    throw new SysError('cgroup', -e.errno, `${file}: cannot write "${value}"`);
  }
}

/** The file's text, trimmed; '' when it is gone or unreadable (a cgroup being removed). */
export function readCgroup(file: string): string {
  try { return fs.readFileSync(file, 'utf8').trim(); } catch { return ''; }
}
