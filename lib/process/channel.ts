// box's end of the stage's fd 3: newline-delimited JSON messages, and EOF — which, after
// "start", means execve closed the channel (close-on-exec): the command is running.
import { Duplex } from 'node:stream';

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
