// Which of box's own fds a container may be given as its stdio (lib/terminal/stdio.ts says
// why the others are relayed). Its own small module: the pooled run client loads it, and
// must not load the relays (Node's tty and net).
import * as fs from 'node:fs';

/**
 * May this fd of ours become a container's own: a pipe or FIFO, a socket (Node's and most
 * supervisors' "pipes"; /proc/self/fd/N of a socket cannot be reopened, and fds it might
 * send are dropped by a peer that only read()s), or /dev/null (1:3). Not a terminal, a
 * file, another device.
 */
export function handOver(fd: number): boolean {
  let st: fs.Stats;
  try { st = fs.fstatSync(fd); } catch { return false; }
  return st.isFIFO() || st.isSocket() || (st.isCharacterDevice() && st.rdev === 0x103);
}
