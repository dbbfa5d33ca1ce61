// Talking to the store's supervisor (daemon.ts): connect to its socket, or start one —
// anchor first, in its own session so the user's terminal cannot signal it — and wait
// for its first words on a pipe: "ready" (listening) or "busy" (another client's
// supervisor won the race; connect to that one). A supervisor that is exiting because it
// supervised nothing unpublishes its socket first; a request that met it on the way out
// is sent again to a successor. (An attached `box run` talks to it through run-client.ts.)
import * as fs from 'node:fs';
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { RUN, SUPERVISOR_SOCKET, SUPERVISOR_LOG } from '../state/paths';
import { selfArgs, stageEnv } from '../container/launch';
import { Channel } from '../inside/protocol';
import { ContainerError } from '../container/errors';

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
