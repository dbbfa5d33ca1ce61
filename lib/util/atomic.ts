// The one way box replaces a file: readers (other boxes, a crash and reboot) see the old
// contents or the new, never half. A temp file beside the target (the same filesystem, so
// rename(2) is atomic) with a name no other writer uses, created O_EXCL with its final
// mode (pid + random: no node:crypto, which the bundle's loader would load at every start); its data fsync'ed before the rename, so the rename cannot land before the data
// (ext4's delayed allocation can otherwise leave a zero-length file after a power loss);
// then the directory fsync'ed, so the rename itself is on disk.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface AtomicOptions {
  /** false: skip both fsyncs — still atomic for readers, but a power loss may undo the write or leave nothing. */
  durable?: boolean;
}

export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600, opts: AtomicOptions = {}) {
  const durable = opts.durable ?? true;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Math.random().toString(16).slice(2)}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
  try {
    try {
      fs.writeFileSync(fd, data);
      if (durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  if (durable) syncDir(dir);
}

/** fsync a directory: makes the entries created, renamed or removed in it durable. */
export function syncDir(dir: string) {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
