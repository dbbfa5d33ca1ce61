// box attach [--no-stdin] [--sig-proxy=true|false] [--detach-keys KEYS] CONTAINER: this
// terminal (or these pipes) on a running detached container, as Docker's: its output from now
// on (history is `box logs`), our stdin to its stdin if it was started with -i, raw mode and
// window size with -t, the detach keys (ctrl-p ctrl-q) leave it running, and its exit status
// when it ends. The supervisor holds the container's streams (lib/supervisor/attach.ts); we
// talk to it over its socket in frames, bytes only.
import * as net from 'node:net';
import { parseCommand } from '../options/flags';
import { BoxError, FlagError } from '../libc/errors';
import { get, isRunning } from '../container/query';
import { load } from '../state/store';
import { SUPERVISOR_SOCKET } from '../state/paths';
import { checkInputTerminal } from '../supervisor/run-client';
import { forwardSignals } from '../util/signals';
import { processStart } from '../util/proc';
import { FRAME, frame, deframer } from '../supervisor/attach';
import * as libc from '../libc';

export const ATTACH_OPTIONS = {
  'no-stdin': { type: 'boolean' }, 'sig-proxy': { type: 'string' }, 'detach-keys': { type: 'string' },
} as const;

const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

export async function attach(args: string[]): Promise<number> {
  // Docker's --sig-proxy is a boolean that also takes =true|false
  const { values: v, positionals } = parseCommand('attach', args.map((a) => (a === '--sig-proxy' ? '--sig-proxy=true' : a)), ATTACH_OPTIONS, true);
  const sigProxy = parseBool(v['sig-proxy'] ?? 'true');
  const keys = detachKeys(v['detach-keys'] ?? DEFAULT_DETACH_KEYS);
  if (positionals.length !== 1) throw new BoxError('box attach: requires exactly 1 argument');
  const s = get(positionals[0]);
  if (!isRunning(s)) throw new BoxError('box attach: You cannot attach to a stopped container, start it first', 1);
  if (s.paused) throw new BoxError('box attach: You cannot attach to a paused container, unpause it first', 1);
  if (!s.supervised) throw new BoxError(`box attach: container ${positionals[0]} was not started detached (run -d, create): its output goes to the box run that started it`, 1);
  const tty = !!s.spec.tty;
  const wantStdin = !v['no-stdin'];
  checkInputTerminal('attach', tty, wantStdin); // Docker's: whether or not it was started with -i
  const stdin = wantStdin && !!s.spec.stdin;

  const conn = await connect();
  conn.write(JSON.stringify({ attach: s.id, stdin }) + '\n');
  const pid = () => { const now = load(s.id); return now?.pid && processStart(now.pid) === now.pidStart ? now.pid : undefined; };
  const unforward = sigProxy && !tty ? forwardSignals(pid) : () => {};
  let restore = () => {};
  try {
    const end = await session(conn, { tty, stdin, keys, onAttached: () => { restore = startInput(conn, tty, stdin, keys); } });
    if ('detached' in end) {
      restore();
      if (!end.quiet) process.stderr.write('read escape sequence\n');
      return 0;
    }
    if ('error' in end) throw new BoxError(String(end.error), end.status ?? 1);
    if (typeof end.exit === 'number') return end.exit;
    return await exitStatus(s.id); // {ended}, or the supervisor went: the record tells
  } finally {
    restore();
    unforward();
    conn.destroy();
  }
}

/** A connection to the store's supervisor (a running detached container always has one). */
function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect(SUPERVISOR_SOCKET);
    c.once('connect', () => { c.removeAllListeners('error'); resolve(c); });
    c.once('error', (e) => reject(new BoxError(`box attach: no supervisor answers on ${SUPERVISOR_SOCKET}: ${e.message}`, 1)));
  });
}

type End = { exit?: number; ended?: boolean } | { error: string; status?: number } | { detached: true; quiet?: boolean };
let detach: (() => void) | undefined;

/** Output frames to our stdout/stderr until a control frame ends the session. */
function session(conn: net.Socket, o: { tty: boolean; stdin: boolean; keys: Buffer; onAttached: () => void }): Promise<End> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (e: End) => {
      if (done) return;
      done = true;
      // what was written to our stdout reaches it before we return
      process.stdout.write('', () => process.stderr.write('', () => resolve(e)));
    };
    detach = () => finish({ detached: true });
    let first = true;
    const feed = deframer((type, payload) => {
      if (type === FRAME.STDOUT || type === FRAME.STDERR) {
        const out = type === FRAME.STDERR ? process.stderr : process.stdout;
        // a slow reader of ours slows the supervisor's queue for us, which then drops (never the container)
        if (!out.write(payload)) { conn.pause(); out.once('drain', () => conn.resume()); }
      } else if (type === FRAME.CONTROL) {
        const m = JSON.parse(payload.toString());
        if (m.attached) o.onAttached();
        else finish(m);
      }
    });
    conn.on('data', (d: Buffer) => {
      // an older supervisor answers a request it does not know with a JSON line
      if (first && d[0] === 0x7b) { first = false; const m = JSON.parse(d.toString().split('\n')[0]); return finish({ error: m.error === undefined ? 'box attach: the supervisor does not know attach (restart it)' : m.error.replace(/^box: supervisor: unknown request$/, 'box attach: the supervisor does not know attach (restart it)'), status: 1 }); }
      first = false;
      if (!feed(d)) finish({ error: 'box attach: bad data from the supervisor', status: 1 });
    });
    // our reader went (`| head`): Docker's client stops there too, the container goes on
    for (const out of [process.stdout, process.stderr]) out.on('error', () => { if (!done) { done = true; resolve({ detached: true, quiet: true } as End); } });
    conn.on('error', () => finish({ ended: true }));
    conn.on('close', () => finish({ ended: true }));
  });
}

/** Our stdin to the container (escaping the detach keys with a terminal), raw mode and window size; returns the undo. */
function startInput(conn: net.Socket, tty: boolean, stdin: boolean, keys: Buffer): () => void {
  if (!stdin && !tty) return () => {};
  const undo: (() => void)[] = [];
  if (tty) {
    const out = process.stdout.isTTY ? process.stdout : process.stderr.isTTY ? process.stderr : undefined;
    const resize = () => { if (out?.columns) conn.write(frame(FRAME.RESIZE, { rows: out.rows, cols: out.columns })); };
    resize();
    out?.on('resize', resize);
    undo.push(() => out?.off('resize', resize));
  }
  if (stdin) {
    if (tty && process.stdin.isTTY) {
      const saved = libc.makeRaw(0);
      const back = () => libc.restoreTermios(0, saved);
      process.once('exit', back);
      undo.push(back);
    }
    const send = (b: Buffer) => { if (b.length && !conn.destroyed) conn.write(frame(FRAME.STDIN, b)); };
    // Docker escapes the detach keys only with a terminal
    const onData = tty ? escaper(keys, send, () => detach?.()) : send;
    process.stdin.on('data', onData);
    // stdin's end is not the container's: a `-i` container's stdin stays open (Docker's, without --attach's StdinOnce)
    undo.push(() => { process.stdin.off('data', onData); process.stdin.pause(); });
  }
  let undone = false;
  return () => { if (!undone) { undone = true; for (const u of undo.reverse()) u(); } };
}

/**
 * Pass bytes on, holding back a prefix of the detach keys until it is complete (detach) or
 * broken (then it goes on too), as Docker's escape proxy.
 */
export function escaper(keys: Buffer, forward: (b: Buffer) => void, onDetach: () => void): (d: Buffer) => void {
  let held = 0;
  return (d) => {
    const out: number[] = [];
    for (const b of d) {
      if (b !== keys[held] && held) { for (let i = 0; i < held; i++) out.push(keys[i]); held = 0; }
      if (b === keys[held]) {
        if (++held === keys.length) { forward(Buffer.from(out)); onDetach(); return; }
        continue;
      }
      out.push(b);
    }
    forward(Buffer.from(out));
  };
}

/** Docker's detach keys ("ctrl-p,ctrl-q", "a,ctrl-@"…) as bytes. */
export function detachKeys(spec: string): Buffer {
  const bad = () => new BoxError(`box attach: Invalid detach keys (${spec}) provided`, 1);
  const out: number[] = [];
  for (const key of spec.split(',')) {
    if (key.length === 1 && key.charCodeAt(0) < 128) { out.push(key.charCodeAt(0)); continue; }
    const k = key.toLowerCase();
    if (!k.startsWith('ctrl-') || k.length !== 6) throw bad();
    const c = k[5];
    if (c >= 'a' && c <= 'z') out.push(c.charCodeAt(0) - 96);
    else if ('@[\\]^_'.includes(c)) out.push({ '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 }[c]!);
    else throw bad();
  }
  if (!out.length) throw bad();
  return Buffer.from(out);
}

/** Go's strconv.ParseBool, as Docker's boolean flags take it. */
function parseBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new FlagError(`box attach: invalid argument "${s}" for "--sig-proxy" flag: strconv.ParseBool: parsing "${s}": invalid syntax`);
}

/** The container's exit status from its record, once it is over (the supervisor records it at teardown). */
async function exitStatus(id: string): Promise<number> {
  for (let i = 0; i < 300; i++) {
    const s = load(id);
    if (!s) return 137;
    if (!isRunning(s) && s.status !== 'running') return s.exitCode ?? 137;
    if (!isRunning(s) && i > 50) return s.exitCode ?? 137; // its owner died meanwhile
    await new Promise((r) => setTimeout(r, 100));
  }
  return load(id)?.exitCode ?? 137;
}
