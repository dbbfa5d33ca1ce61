// Locks are flocks: held until closed or until the holder dies, so a crashed box never
// leaves a stale lock. Global ones are files in /run/box (what dies with the host); a
// container's is its own directory, so it goes when the container does.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as libc from '../libc';
import { RUN, containerDir } from './paths';

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

// Held by this process: flock locks an open file, not a process, so a second open of the
// same directory here would wait for the first forever. fn is synchronous, so nothing else
// of this process runs while it holds the lock and a nested call may simply go through.
const held = new Set<string>();

/**
 * One container's lock, around a read-modify-write of its record (and its removal). The
 * directory may be removed while a waiter waits: it then finds no record. Undefined when
 * the container's directory is gone already.
 */
export function withContainerLock<T>(id: string, fn: () => T): T | undefined {
  if (held.has(id)) return fn();
  const dir = containerDir(id);
  let fd: number;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (e: any) {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  }
  held.add(id);
  try {
    libc.flockExclusive(fd, dir);
    return fn();
  } finally {
    held.delete(id);
    fs.closeSync(fd);
  }
}
