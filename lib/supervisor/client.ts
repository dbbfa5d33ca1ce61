// Talking to the store's supervisor (daemon.ts): connect to its socket, or start one —
// anchor first, in its own session so the user's terminal cannot signal it — and wait
// for its first words on a pipe: "ready" (listening) or "busy" (another client's
// supervisor won the race; connect to that one). A supervisor that is exiting because it
// supervised nothing unpublishes its socket first; a request that met it on the way out
// is sent again to a successor.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { RUN, SUPERVISOR_SOCKET, SUPERVISOR_LOG } from '../state/paths';
import { selfArgs, stageEnv } from '../container/launch';
import { Channel } from '../inside/protocol';
import { ContainerError } from '../container/errors';
import { ContainerState, load } from '../state/store';
import { connectUnix, sendFds, recvFds } from '../libc/fdpass';
import { stdioModes } from '../terminal/stdio';
import { relayPty, syncSize } from '../terminal/tty';
import { forwardSignals } from '../util/signals';
import { Stage } from '../container/stage';

const ATTEMPTS = 50;

function connect(): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(SUPERVISOR_SOCKET);
    s.once('connect', () => { s.removeAllListeners('error'); resolve(s); });
    s.once('error', () => resolve(undefined));
  });
}

/** Start a supervisor (under its anchor); its first words: {ready} or {busy}, or null if it died. */
export async function startSupervisor(): Promise<any> {
  fs.mkdirSync(RUN, { recursive: true, mode: 0o700 });
  const log = fs.openSync(SUPERVISOR_LOG, 'a', 0o600);
  try {
    const child = spawn(process.execPath, [...selfArgs(), '__anchor'], {
      stdio: ['ignore', 'ignore', log, 'pipe'], detached: true, env: stageEnv(),
    });
    const pipe = child.stdio[3] as Duplex;
    const msg = await new Channel(pipe).next();
    pipe.destroy();
    child.unref();
    return msg;
  } finally {
    fs.closeSync(log);
  }
}

/**
 * Send one request; the supervisor's first reply (null if it closed without one). A
 * connection the supervisor closed before reading anything is retried on a successor.
 */
export async function request(msg: object): Promise<any> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const sock = await connect();
    if (!sock) {
      const started = await startSupervisor();
      if (started?.error) throw new ContainerError('setup', `box: the supervisor could not start: ${started.error}`);
      if (!started?.ready) await new Promise((r) => setTimeout(r, 20)); // busy: another one is starting or ending
      continue;
    }
    const chan = new Channel(sock);
    chan.send(msg);
    const reply = await chan.next();
    sock.destroy();
    if (reply !== null) return reply;
    // closed without a word: it was exiting and never read this (a read request keeps it alive)
  }
  throw new ContainerError('setup', `box: no supervisor answered on ${SUPERVISOR_SOCKET} (its log: ${SUPERVISOR_LOG})`);
}

/**
 * An attached `box run` on the supervisor's warm pool (lib/supervisor/attached.ts), when a
 * supervisor runs: this process hands over its own stdio fds (no relay) or relays the pty
 * master it gets back with -t, forwards signals to the container's PID 1, and returns its
 * exit status. Undefined when there is no supervisor, or when this run needs relays of its
 * own (a non-tty container on the user's terminal: it must not get the host's tty) — the
 * caller then runs the container itself, cold, as before.
 */
export async function runAttached(state: ContainerState, tty: boolean, stdin: boolean): Promise<number | undefined> {
  const modes = stdioModes(tty, stdin) as string[];
  if (modes.includes('pipe') || !fs.existsSync(SUPERVISOR_SOCKET)) return undefined;
  let fd: number;
  try { fd = connectUnix(SUPERVISOR_SOCKET); } catch { return undefined; }
  const targets = tty ? [] : [0, 1, 2].filter((n) => modes[n] === 'inherit');
  let sock: net.Socket | undefined;
  let unforward = () => {};
  try {
    try {
      sendFds(fd, Buffer.from(JSON.stringify({ attach: state.id, stdio: targets }) + '\n'), targets);
    } catch {
      return undefined; // EPIPE: it closed the connection unread, on its way out; run it cold
    }
    const first = recvFds(fd, 1, 24 * 3600 * 1000); // the container's set-up; signals wait meanwhile
    const lines = first ? first.data.toString().split('\n').filter(Boolean) : [];
    const hello = lines.length ? JSON.parse(lines[0]) : null;
    if (!hello) {
      // it was exiting and never read this: the container is still ours, run it cold
      if (load(state.id)?.owner.pid === process.pid) return undefined;
      throw new ContainerError('setup', 'box: the supervisor went away while setting up the container');
    }
    if (hello.error) throw new ContainerError('setup', hello.error, hello.status ?? 125);
    unforward = forwardSignals(() => hello.pid);
    let relay: Promise<void> | undefined;
    if (first!.fds.length) {
      syncSize(first!.fds[0]);
      relay = relayPty({ master: first!.fds[0], index: -1 }, stdin);
    }
    sock = new net.Socket({ fd, readable: true, writable: false });
    const chan = new Channel(sock);
    let end: any = lines.length > 1 ? JSON.parse(lines[1]) : await chan.next();
    while (end && end.exit === undefined && !end.error) end = await chan.next();
    if (relay) await Stage.drain([relay]);
    if (!end) throw new ContainerError('setup', 'box: the supervisor exited while the container ran', 125);
    if (end.error) throw new ContainerError('setup', end.error, end.status ?? 125);
    return end.exit;
  } finally {
    unforward();
    if (sock) sock.destroy(); else fs.closeSync(fd);
  }
}
