// The client's side of an attached `box run` on the supervisor's warm pool (attached.ts is
// the other side). This is most of what a pooled run costs, so it does little and loads
// little: the caller parsed the flags (parseRun: -e NAME, --env-file and the seccomp
// profile are resolved in this process, against its environment and cwd); this sends the
// request as data with this process's stdio fds, prints what comes back, forwards signals
// to the container's PID 1 and returns its exit status. The supervisor creates, runs and
// tears the container down, and resolves nothing in its own cwd or environment for us.
//   Node's `net` and `tty` modules alone take ~5 ms to load, more than koffi, which this
// needs anyway to pass fds: the socket is koffi's, and read through fs (a libuv pool thread).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SUPERVISOR_SOCKET } from '../state/paths';
import { connectUnix, sendFds, recvFds } from '../libc/fdpass';
import { func } from '../libc/core';
import { BoxError } from '../libc/errors';
import { forwardSignals } from '../util/signals';
import { handOver } from '../terminal/handover';
import type { RunRequest } from '../options/run';

/** What an older supervisor answers a request it does not know: run it cold then. */
export const UNKNOWN_REQUEST = 'box: supervisor: unknown request';
/** The settings that change how a container is made (tests set them per client): the supervisor runs cold what it would make otherwise. */
export const KNOBS = ['BOX_NO_OVERLAY', 'BOX_OLD_KERNEL'] as const;

/**
 * The request as sent. An image that may be a relative path travels as the absolute path it
 * names here too, if that exists (the supervisor asks its store first, as resolveImage does).
 */
export function runMessage(req: RunRequest, stdio: number[]): object {
  const { image } = req.spec;
  const pathish = !image.startsWith('/') && (image.startsWith('.') || image.includes('/'));
  const imagePath = pathish && fs.existsSync(image) ? path.resolve(image) : undefined;
  const data = req;
  // ptyRelay: this client relays a terminal through a socket when the supervisor relays (and logs) the master
  return { runAttached: data, imagePath, stdio, ptyRelay: true, knobs: Object.fromEntries(KNOBS.map((k) => [k, process.env[k] ?? ''])) };
}

/**
 * Docker's refusal of -it when stdin is not a terminal (a script, a pipe, CI's /dev/null):
 * the container would wait on a pty nobody types into. Exit status 1, as Docker's.
 */
export function checkInputTerminal(verb: string, tty: boolean, stdin: boolean) {
  if (tty && stdin && func('int isatty(int fd)')(0) !== 1) throw new BoxError(`box ${verb}: the input device is not a TTY`, 1);
}

/**
 * Run `req` on the supervisor's pool; its exit status. Undefined when this process must run
 * it itself, cold, as before: no supervisor, one on its way out (the request was not read),
 * an older one, or a run that needs relays of its own (a non-tty container on the user's
 * terminal: it must not get the host's tty; lib/terminal/stdio.ts).
 */
export async function runPooled(req: RunRequest): Promise<number | undefined> {
  const { tty, stdin } = req.spec;
  if (!fs.existsSync(SUPERVISOR_SOCKET)) return undefined;
  // fds that must not become the container's own (a terminal, a host file, a socket:
  // lib/terminal/stdio.ts) need relays: this process runs it then, cold
  if (!tty && !(handOver(1) && handOver(2) && (!stdin || handOver(0)))) return undefined;
  let fd: number;
  try { fd = connectUnix(SUPERVISOR_SOCKET); } catch { return undefined; }
  // the container's 0–2 are these very fds (no relay); with -t it gets a pty and none of them
  const targets = tty ? [] : stdin ? [0, 1, 2] : [1, 2];
  let unforward = () => {};
  try {
    try {
      sendFds(fd, Buffer.from(JSON.stringify(runMessage(req, targets)) + '\n'), targets);
    } catch {
      return undefined; // EPIPE: it closed the connection unread, on its way out
    }
    const lines = new Lines();
    const fds: number[] = [];
    let heard = false;
    // Until the container runs: read here, synchronously (signals wait meanwhile; the pty
    // master comes with {attached}, and libuv's reads would drop it)
    let m: any;
    for (;;) {
      m = lines.next();
      if (m === undefined) {
        const got = recvFds(fd, 1, 24 * 3600 * 1000);
        if (!got) { m = null; break; }
        fds.push(...got.fds);
        lines.push(got.data);
        continue;
      }
      if ((m.cold || m.error === UNKNOWN_REQUEST) && !heard) return undefined; // nothing was made
      heard = true;
      if (typeof m.warning === 'string') { warn(m.warning); continue; }
      break;
    }
    if (!m) {
      if (!heard) return undefined; // it was exiting and never read this: nothing was made
      throw new BoxError('box: the supervisor went away while setting up the container');
    }
    if (m.error) throw new BoxError(String(m.error), m.status ?? 125);
    if (m.exit !== undefined) return m.exit;
    const pid: number = m.pid;
    unforward = forwardSignals(() => pid);
    let relay: Promise<void> | undefined;
    if (tty && fds.length) {
      const t = require('../terminal/tty');
      t.syncSize(fds[0]);
      // a logged run: the supervisor reads the master (and logs it); the data comes through fds[1]
      relay = t.relayPty({ master: fds[0], index: -1 }, stdin, undefined, m.relayed && fds.length > 1 ? fds[1] : undefined);
    }
    // then in the event loop's time, so that signals are forwarded while the container runs
    let end: any;
    while ((end = lines.next() ?? (await readMore(fd, lines))) !== null) {
      if (typeof end.warning === 'string') warn(end.warning);
      else if (end.exit !== undefined || end.error) break;
    }
    if (relay) await drain(relay);
    if (!end) throw new BoxError('box: the supervisor exited while the container ran');
    if (end.error) throw new BoxError(String(end.error), end.status ?? 125);
    return end.exit;
  } finally {
    unforward();
    fs.closeSync(fd);
  }
}

const warn = (w: string) => fs.writeSync(2, `${w}\n`);

/**
 * Read what the supervisor sent next (in a pool thread: the socket blocks); the next message,
 * or null at EOF. This is the client's only use of libuv's pool: one thread is made, not the
 * default four (each made here, and each ended again by the client's exit, on the run's path).
 */
function readMore(fd: number, lines: Lines): Promise<any> {
  process.env.UV_THREADPOOL_SIZE ??= '1'; // read once, when the pool starts
  const buf = Buffer.allocUnsafe(65536);
  return new Promise((resolve) => {
    fs.read(fd, buf, 0, buf.length, null, (err, n) => {
      if (err || !n) return resolve(null);
      lines.push(buf.subarray(0, n));
      resolve(lines.next() ?? readMore(fd, lines));
    });
  });
}

/** JSON lines as they arrive in pieces. */
class Lines {
  private partial = '';
  private queue: any[] = [];
  push(d: Buffer) {
    const parts = (this.partial + d.toString()).split('\n');
    this.partial = parts.pop()!;
    for (const p of parts) if (p) this.queue.push(JSON.parse(p));
  }
  next(): any { return this.queue.shift(); }
}

/** The pty relay ends by itself on EIO once the container is gone; what it wrote last gets 2 s to arrive. */
async function drain(relay: Promise<void>) {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([relay, new Promise((r) => { timer = setTimeout(r, 2000); })]);
  clearTimeout(timer);
}
