// The stage protocol, both ends. A stage (`__init`, `__exec`) is started with:
//   fd 3  a socketpair with box: newline-delimited JSON messages, and EOF — which, after
//         "start", means execve closed it (close-on-exec): the command is running;
//   fd 4  a unix socket for SCM_RIGHTS (the pty master, the namespaces, a seccomp listener;
//         box → a pooled stage: its stdio, queued before the config that says so);
//   fd 5  the read-only node the stage was executed from (lib/container/launch.ts).
// The host end (`Channel`) is asynchronous: box's event loop also relays stdio. The stage's
// end is synchronous: the stage is one thread doing one thing at a time.
//
// Messages, stage → box: {ready, pty?}  {namespaces} (then one fd each)  {seccompListener}
// (then its fd)  {started} (exec)  {error, status}.  box → stage: the StageConfig or
// ExecConfig first, then {start} (init).
import { Duplex } from 'node:stream';
import { libc } from '../libc/seam';

export const CHANNEL_FD = 3;
export const FD_SOCKET = 4; // SCM_RIGHTS to box (the pty master, the namespaces)
export const EXE_FD = 5;    // the read-only node this stage was executed from (lib/container/launch.ts)
/** After `__init`: a stage a StagePool started before its container was known (it prepares what no container decides). */
export const POOLED_ARG = '--pooled';

/** A stage's first step: it needs no fd on its own executable, and a container must never get one. */
export function closeExeFd() {
  try { libc.close(EXE_FD); } catch { /* not open */ }
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
      n = libc.read(fd, buf);
    } catch (e: any) {
      if (e.code === 'EAGAIN' || e.code === 'EINTR') continue;
      throw e;
    }
    if (n === 0) libc.exit(125); // box went away before telling us to start: nobody to run for
    pending = Buffer.concat([pending, buf.subarray(0, n)]);
  }
}

export function sendMessage(msg: object, fd = CHANNEL_FD) {
  const data = Buffer.from(JSON.stringify(msg) + '\n');
  let off = 0;
  while (off < data.length) {
    try {
      off += libc.write(fd, data, off);
    } catch (e: any) {
      if (e.code !== 'EAGAIN' && e.code !== 'EINTR') throw e;
    }
  }
}

/** box's end of fd 3. */

export class Channel {
  private buf = '';
  private queue: any[] = [];
  private waiters: ((m: any) => void)[] = [];
  private closed = false;

  constructor(private sock: Duplex) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.push(JSON.parse(line));
      }
    });
    const end = () => { if (!this.closed) { this.closed = true; this.push(null); } };
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', end);
  }

  private push(m: any) {
    const w = this.waiters.shift();
    if (w) w(m); else this.queue.push(m);
  }

  /** The next message, or null at EOF. */
  next(): Promise<any> {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closed) return Promise.resolve(null);
    return new Promise((r) => this.waiters.push(r));
  }

  send(m: object) {
    this.sock.write(JSON.stringify(m) + '\n');
  }
}
