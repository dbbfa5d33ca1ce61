// --cidfile FILE (run, create): claimed before the container is made — an existing file is
// refused with Docker's words — and written with the full id once it exists; removed again
// when the create fails (Docker's cidfile).
import * as fs from 'node:fs';
import { BoxError } from '../libc/errors';

export interface Cidfile { write(id: string): void; abandon(): void }

export function claimCidfile(file: string | undefined, verb: string): Cidfile {
  if (file === undefined) return { write() {}, abandon() {} };
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
  } catch (e: any) {
    if (e.code === 'EEXIST') throw new BoxError(`box ${verb}: Container ID file found, make sure the other container isn't running or delete ${file}`);
    throw new BoxError(`box ${verb}: failed to create the container ID file: ${e.message}`);
  }
  let done = false;
  return {
    write(id) { fs.writeSync(fd, id); fs.closeSync(fd); done = true; },
    abandon() { if (done) return; fs.closeSync(fd); fs.rmSync(file, { force: true }); },
  };
}

/** create(), then the id into the file; the file goes again if create throws. */
export function withCidfile<T extends { id: string }>(cid: Cidfile, create: () => T): T {
  let made: T;
  try { made = create(); } catch (e) { cid.abandon(); throw e; }
  cid.write(made.id);
  return made;
}
