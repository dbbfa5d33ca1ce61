// The stage's end of fd 3, a socketpair with box: newline-delimited JSON, read and written
// synchronously because the stage is one thread doing one thing at a time.
import * as fs from 'node:fs';

export const CHANNEL_FD = 3;
export const FD_SOCKET = 4; // SCM_RIGHTS to box (the pty master, the namespaces)
export const EXE_FD = 5;    // the read-only node this stage was executed from (lib/process/launch.ts)

/** A stage's first step: it needs no fd on its own executable, and a container must never get one. */
export function closeExeFd() {
  try { fs.closeSync(EXE_FD); } catch { /* not open */ }
}
let pending = Buffer.alloc(0);

export function readMessage(fd = CHANNEL_FD): any {
  for (;;) {
    const nl = pending.indexOf(10);
    if (nl >= 0) {
      const line = pending.subarray(0, nl).toString();
      pending = pending.subarray(nl + 1);
      return JSON.parse(line);
    }
    const buf = Buffer.alloc(65536);
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e: any) {
      if (e.code === 'EAGAIN' || e.code === 'EINTR') continue;
      throw e;
    }
    if (n === 0) process.exit(125); // box went away before telling us to start: nobody to run for
    pending = Buffer.concat([pending, buf.subarray(0, n)]);
  }
}

export function sendMessage(msg: object, fd = CHANNEL_FD) {
  const data = Buffer.from(JSON.stringify(msg) + '\n');
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off);
    } catch (e: any) {
      if (e.code !== 'EAGAIN' && e.code !== 'EINTR') throw e;
    }
  }
}
