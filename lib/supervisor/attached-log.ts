// The output of an attached `box run` in its json-file log, as Docker records every
// container's: the run's relays (lib/terminal/stdio.ts on the cold path, attached.ts on the
// supervisor's) copy each chunk to the user and hand it here, and logs.ts's writer (a record
// per line, rotation) writes it. Not for `--rm` runs: their log would be removed with them at
// exit, so box does not write it (and `run --rm` keeps its relay-free fast path); nor with
// `--log-driver none`. The container's data is only written into the log, never read back
// here; one chunk per stream is in flight at a time (the container waits meanwhile, as on a
// pipe), so a flood of output costs no memory.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { openLog, relay } from './logs';
import type { ContainerSpec } from '../options/types';

export type Stream = 'stdout' | 'stderr';
/** Where a relay writes the user's copy of a chunk; `done` once written (an error: the user's side is gone). `close`: once the stream ended. */
export type Sink = ((d: Buffer, done: (err?: Error | null) => void) => void) & { close?(): void };

/** Whether an attached run records its output. */
export const logsAttached = (spec: Pick<ContainerSpec, 'rm' | 'log'>) => !spec.rm && spec.log?.type !== 'none';

/**
 * A Sink onto an fd received from a client, never set non-blocking itself (the client's shell
 * shares its file description). A pipe is opened anew through /proc (a description of our
 * own, non-blocking: the event loop waits for a slow reader); a socket or /dev/null is written
 * by libuv's pool (a write that blocks holds a pool thread until the reader reads).
 */
export function fdSink(fd: number): Sink {
  let own: number | undefined;
  try {
    if (fs.fstatSync(fd).isFIFO()) own = fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch { /* no reader left (ENXIO): written as a socket is, and fails as the user's pipe would */ }
  if (own !== undefined) {
    const pipe = new net.Socket({ fd: own, readable: false, writable: true });
    pipe.on('error', () => { /* the write's callback tells */ });
    const sink: Sink = (d, done) => { pipe.write(d, (err) => done(err)); };
    sink.close = () => pipe.destroy();
    return sink;
  }
  return (d, done) => {
    const more = (at: number) => {
      if (at >= d.length) return done();
      fs.write(fd, d, at, d.length - at, null, (err, n) => (err ? done(err) : more(at + n)));
    };
    more(0);
  };
}

export class AttachedLog {
  private readonly fd: number;
  private readonly passes: PassThrough[];
  private readonly written: Promise<void>[];
  private readonly copies: Promise<void>[] = [];
  private readonly sources: Readable[] = [];
  private active = 0;      // chunks being written to the user
  private moved = Date.now();

  /** The log of container `id`; one stream of records per entry of `streams` (index i below). */
  constructor(id: string, spec: Pick<ContainerSpec, 'log'>, streams: Stream[]) {
    this.fd = openLog(id, spec.log);
    this.passes = streams.map(() => new PassThrough());
    this.written = relay(this.passes.map((p, i) => [p, streams[i]] as [Readable, string]), this.fd);
  }

  /** A chunk of stream i (a relay that writes the user's copy itself: the pty's). */
  push(i: number, d: Buffer) {
    this.moved = Date.now();
    if (!this.passes[i].writableEnded) this.passes[i].write(d);
  }
  /** Stream i ended. */
  end(i: number) { if (!this.passes[i].writableEnded) this.passes[i].end(); }

  /**
   * Copy `from` to the user (`sink`) and into the log as stream i, a chunk at a time. If the
   * user's side is gone (EPIPE), `from` is closed: the container's next write fails as it
   * would on the user's own pipe.
   */
  copy(i: number, from: Readable, sink: Sink): Promise<void> {
    this.sources.push(from);
    const p = new Promise<void>((resolve) => {
      from.on('data', (d: Buffer) => {
        this.push(i, d);
        from.pause();
        this.active++;
        sink(d, (err) => {
          this.active--;
          this.moved = Date.now();
          if (err) from.destroy();
          else from.resume();
        });
      });
      from.on('error', () => { /* closed below */ });
      from.on('close', () => { sink.close?.(); this.end(i); resolve(); });
    });
    this.copies.push(p);
    return p;
  }

  /**
   * Once the container exited: wait until every stream ended and is in the log and with the
   * user — however long the user takes to read it — but no more than 2 s with nothing moving
   * (a process outside the container holding a write end); then close the log. `wait`
   * false: the run failed, nothing more is coming.
   */
  async finish(wait = true): Promise<void> {
    let settled = !wait;
    const all = Promise.all([...this.copies, ...this.written]).then(() => { settled = true; });
    while (!settled) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((r) => { timer = setTimeout(r, 100); })]);
      clearTimeout(timer);
      if (!settled && this.active === 0 && Date.now() - this.moved > 2000) break;
    }
    for (const s of this.sources) s.destroy();
    this.passes.forEach((_, i) => this.end(i));
    await Promise.all(this.written);
    fs.closeSync(this.fd);
  }
}
