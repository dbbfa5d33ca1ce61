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

/**
 * writeCgroup with the write on a thread of libuv's pool (a first cgroup.procs write waits
 * 10–20 ms for an RCU grace period). The file is opened here, synchronously (microseconds),
 * so that the write is queued at once: fs.promises.writeFile chains open → write through this
 * thread's event loop, and while it was busy making the container the write waited for it.
 */
export function writeCgroupAsync(file: string, value: string | number): Promise<void> {
  const refused = (e: any) => (typeof e?.errno === 'number' ? new SysError('cgroup', -e.errno, `${file}: cannot write "${value}"`) : e);
  let fd: number;
  try { fd = fs.openSync(file, 'w'); } catch (e) { return Promise.reject(refused(e)); }
  return new Promise((resolve, reject) => {
    fs.write(fd, String(value), (e) => {
      fs.close(fd, () => {});
      if (e) reject(refused(e)); else resolve();
    });
  });
}

/** The file's text, trimmed; '' when it is gone or unreadable (a cgroup being removed). */
export function readCgroup(file: string): string {
  try { return fs.readFileSync(file, 'utf8').trim(); } catch { return ''; }
}
