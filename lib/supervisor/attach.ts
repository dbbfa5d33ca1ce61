// `box attach` in the supervisor (daemon.ts): a client subscribes its connection to one of
// our containers' output, live from the moment it attaches (history is `box logs`), and may
// send its stdin and window size. Several clients may attach to one container at once.
//   Output comes from the same reads that write the json-file log (logs.ts relay calls
// output()), so attaching costs the container nothing. A slow or stopped client must never
// hold the container or the log up: its connection is written without waiting, and once
// MAX_QUEUED bytes wait in its queue, further output is DROPPED for that client (not
// buffered without bound, not blocking) until it catches up; the log has all of it.
//   The client gets bytes only: no fd of ours, no path. It names the container by full id,
// checked here, and only a container whose output this supervisor is relaying now can be
// attached to.
//
// Framing, both ways on the client's connection: [type: 1 byte][length: uint32 BE][payload].
//   client → us: first a JSON line {attach: ID, stdin: bool} (daemon.ts reads it), then
//                STDIN frames (bytes) and RESIZE frames ({rows, cols})
//   us → client: CONTROL frames ({attached, tty} | {error, status} | {exit} | {ended}),
//                STDOUT / STDERR frames (bytes)
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as libc from '../libc';
import { containerDir } from '../state/paths';
import { load } from '../state/store';

export const FRAME = { STDIN: 0, STDOUT: 1, STDERR: 2, RESIZE: 8, CONTROL: 9 } as const;
const MAX_QUEUED = 1 << 20;
const MAX_FRAME = 1 << 20;
const ID = /^[0-9a-f]{64}$/;
// how long after a container's output ended its exit status may take to come (exited());
// past that (an adopted container: adopt.ts reports no status) clients are told {ended}
const END_GRACE_MS = 1000;

/** A container's terminal, held by this supervisor (container.ts registers the pty master). */
export interface Terminal { write(d: Buffer): void; resize(rows: number, cols: number): void; writableLength: number }

interface Client { conn: net.Socket; dropped: number }
const clients = new Map<string, Set<Client>>();
const sources = new Map<string, number>(); // container id → its output streams being relayed now
const terminals = new Map<string, Terminal>();

export function frame(type: number, payload: Buffer | object): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Frames as they arrive in pieces; `on(type, payload)` for each whole one. False: a frame over MAX_FRAME (not a client of ours). */
export function deframer(on: (type: number, payload: Buffer) => void): (d: Buffer) => boolean {
  let buf: Buffer = Buffer.alloc(0);
  return (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (len > MAX_FRAME) return false;
      if (buf.length < 5 + len) break;
      on(buf[0], buf.subarray(5, 5 + len));
      buf = buf.subarray(5 + len);
    }
    return true;
  };
}

// ---- the hooks: logs.ts relay and container.ts call these ----

/** A stream of `id`'s output starts being relayed (relay in logs.ts). */
export function sourceOpened(id: string) { sources.set(id, (sources.get(id) ?? 0) + 1); }

/** One of them ended; once all did, clients still here after END_GRACE_MS get {ended}. */
export function sourceClosed(id: string) {
  const n = (sources.get(id) ?? 1) - 1;
  if (n > 0) { sources.set(id, n); return; }
  sources.delete(id);
  setTimeout(() => { if (!sources.has(id)) finish(id, { ended: true }); }, END_GRACE_MS).unref();
}

/** What the container wrote: to every attached client, without waiting for any. */
export function output(id: string, stream: string, d: Buffer) {
  const set = clients.get(id);
  if (!set) return;
  const f = frame(stream === 'stderr' ? FRAME.STDERR : FRAME.STDOUT, d);
  for (const c of set) {
    if (c.conn.writableLength > MAX_QUEUED) { c.dropped += d.length; continue; } // dropped: see the top
    c.conn.write(f);
  }
}

export function terminalOpened(id: string, t: Terminal) { terminals.set(id, t); }
export function terminalClosed(id: string) { terminals.delete(id); }

/** The container's run ended with `status` (after its output was relayed): clients get it and are let go. */
export function exited(id: string, status: number) { finish(id, { exit: status }); }

function finish(id: string, m: object) {
  const set = clients.get(id);
  if (!set) return;
  clients.delete(id);
  for (const c of set) c.conn.end(frame(FRAME.CONTROL, m));
}

// ---- the stdin of a `run -d -i` container without a terminal ----

const stdinFifo = (id: string) => path.join(containerDir(id), 'stdin.fifo');

/**
 * Its stdin: a FIFO in its directory, as its output (logs.ts), the container's end opened
 * read-write so it never reads EOF while no client is attached (Docker keeps a `-i`
 * container's stdin open across attaches) and a successor supervisor can reopen it.
 */
export function containerStdin(id: string): number {
  const f = stdinFifo(id);
  fs.rmSync(f, { force: true }); // a run before this one's: nothing holds it now
  libc.mkfifo(f, 0o600);
  return fs.openSync(f, fs.constants.O_RDWR);
}

/** A writer on that FIFO for one client (never blocking: the event loop writes it); undefined if there is none. */
function stdinWriter(id: string): net.Socket | undefined {
  let fd: number;
  try { fd = fs.openSync(stdinFifo(id), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW); } catch { return undefined; }
  if (!fs.fstatSync(fd).isFIFO()) { fs.closeSync(fd); return undefined; }
  const s = new net.Socket({ fd, readable: false, writable: true });
  s.on('error', () => s.destroy()); // the container is gone
  return s;
}

// ---- a client ----

/** The request {attach: ID, stdin} on `conn` (its first line already read by daemon.ts); `fds` it sent are refused. */
export function attachClient(req: any, fds: number[], conn: net.Socket) {
  for (const f of fds) fs.closeSync(f); // we take none: only bytes cross
  const fail = (error: string, status = 1) => conn.end(frame(FRAME.CONTROL, { error, status }));
  const id = req.attach;
  if (typeof id !== 'string' || !ID.test(id) || fds.length) return fail('box attach: bad request');
  const state = load(id);
  if (!state || !sources.has(id)) return fail(`box attach: container ${id.slice(0, 12)} is not running under this supervisor`);
  if (state.paused) return fail('You cannot attach to a paused container, unpause it first');
  const terminal = state.spec.tty ? terminals.get(id) : undefined;
  const stdin = req.stdin === true && state.spec.stdin ? (terminal ?? stdinWriter(id)) : undefined;
  const me: Client = { conn, dropped: 0 };
  if (!clients.has(id)) clients.set(id, new Set());
  clients.get(id)!.add(me);
  conn.write(frame(FRAME.CONTROL, { attached: true, tty: !!state.spec.tty, stdin: !!stdin }));
  const feed = deframer((type, payload) => {
    if (type === FRAME.STDIN && stdin) {
      stdin.write(payload);
      // a container that does not read its stdin holds this client up, no one else
      if (stdin.writableLength > MAX_QUEUED) {
        conn.pause();
        const again = setInterval(() => { if (stdin.writableLength < MAX_QUEUED / 2 || conn.destroyed) { clearInterval(again); conn.resume(); } }, 50);
      }
    } else if (type === FRAME.RESIZE && terminal) {
      let m: any;
      try { m = JSON.parse(payload.toString()); } catch { return; }
      const ok = (n: unknown) => Number.isInteger(n) && (n as number) > 0 && (n as number) < 65536;
      if (ok(m?.rows) && ok(m?.cols)) try { terminal.resize(m.rows, m.cols); } catch { /* closed */ }
    }
  });
  conn.on('data', (d: Buffer) => { if (!feed(d)) conn.destroy(); });
  conn.on('close', () => {
    clients.get(id)?.delete(me);
    if (clients.get(id)?.size === 0) clients.delete(id);
    if (stdin && stdin !== terminal) (stdin as net.Socket).destroy();
  });
}
