// A container's pseudo-terminal, opened by the stage from *inside* the container (after
// pivot_root or setns into its mount namespace), so that no path the container controls is
// ever resolved against the host: a `/dev/ptmx -> /etc/shadow` symlink made by a container
// must not make box open a host file as root. What is opened is checked to really be a
// devpts multiplexer, and the slave is opened from the master (TIOCGPTPEER), not by path.
import * as fs from 'node:fs';
import { func, check } from './core';
import { ioctlInt, unlockPty } from './index';
import { O_CLOEXEC } from './paths';

const DEVPTS_SUPER_MAGIC = 0x1cd1;
const TIOCGPTPEER = 0x5441;

export interface PtyPair { master: number; slave: number; index: number }

/** The filesystem magic of an open fd (statfs.f_type, the first long of struct statfs). */
export function fsMagic(fd: number): number {
  const buf = Buffer.alloc(128);
  check(func('int fstatfs(int fd, _Out_ uint8_t *buf)')(fd, buf), 'fstatfs');
  return Number(buf.readBigInt64LE(0));
}

/** Open /dev/pts/ptmx of the devpts instance visible at `/dev/pts` in the current root. */
export function openPtyInside(): PtyPair {
  const path = '/dev/pts/ptmx';
  const { O_RDWR, O_NOCTTY, O_NOFOLLOW } = fs.constants;
  let master: number;
  try {
    master = fs.openSync(path, O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
  } catch (e: any) {
    throw new Error(`${path} is not the container's pty multiplexer (${e.code === 'ELOOP' ? 'a symlink' : e.code})`);
  }
  try {
    const st = fs.fstatSync(master);
    // ptmx is character device 5:2 on a devpts filesystem; anything else is the container's trick
    if (!st.isCharacterDevice() || st.rdev !== ((5 << 8) | 2) || fsMagic(master) !== DEVPTS_SUPER_MAGIC) {
      throw new Error(`${path} is not the container's pty multiplexer (devpts ptmx)`);
    }
    const index = unlockPty(master);
    const slave = ioctlInt(master, TIOCGPTPEER, fs.constants.O_RDWR | O_NOCTTY | O_CLOEXEC, 'ioctl(TIOCGPTPEER)');
    return { master, slave, index };
  } catch (e) {
    fs.closeSync(master);
    throw e;
  }
}
