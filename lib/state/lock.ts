// Locks live in /run/box (what dies with the host): an flock on a file there is held
// until closed or until its holder dies, so a crashed box never leaves a stale lock.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as libc from '../libc';
import { RUN } from './paths';

export function withLock<T>(name: string, fn: () => T): T {
  fs.mkdirSync(RUN, { recursive: true, mode: 0o700 });
  const file = path.join(RUN, `${name}.lock`);
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    libc.flockExclusive(fd, file);
    return fn();
  } finally {
    fs.closeSync(fd);
  }
}
