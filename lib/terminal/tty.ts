// The container's terminal. The pty comes from the container's own devpts instance, opened
// by the stage from inside the container (lib/libc/pty.ts) and handed to box over the
// stage's fd socket, so inside `tty` names /dev/pts/0, the host's devpts is never shown, and
// box never resolves a container path itself. box relays between the master and the user's
// terminal, which it puts in raw mode.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tty from 'node:tty';
import * as libc from '../libc';
import { recvFd } from '../libc/fdpass';

export interface Pty { master: number; index: number }

/** The master the stage sent (it announces `{pty: index}` on its channel after sending it). */
export function receivePty(fdSock: number, index: number): Pty {
  const master = recvFd(fdSock);
  syncSize(master);
  return { master, index };
}

/** Copy the user's window size to the pty (the kernel then sends SIGWINCH inside). */
export function syncSize(master: number) {
  const out = process.stdout.isTTY ? process.stdout : process.stderr.isTTY ? process.stderr : undefined;
  if (out && out.columns) libc.setWinsize(master, out.rows, out.columns);
}

/**
 * Relay pty ↔ user terminal; resolves when the container side has closed. `tee`: gets the
 * output too (an attached run's log). `via`: a socket to whoever relays the master itself (the
 * supervisor, for a logged pooled run): the data goes through it, the master is only resized.
 */
export function relayPty(pty: Pty, withStdin: boolean, tee?: { data(d: Buffer): void; end(): void }, via?: number): Promise<void> {
  const stream = via === undefined ? new tty.ReadStream(pty.master) : new net.Socket({ fd: via, readable: true, writable: true });
  const restore = rawMode(withStdin);
  const onResize = () => { try { syncSize(pty.master); } catch { /* closed */ } };
  process.stdout.on('resize', onResize);
  if (withStdin) process.stdin.on('data', (d) => stream.write(d));
  return new Promise((resolve) => {
    let over = false;
    const done = () => {
      if (over) return;
      over = true;
      process.stdout.off('resize', onResize);
      if (withStdin) process.stdin.pause();
      restore();
      tee?.end();
      if (via !== undefined) { stream.destroy(); try { fs.closeSync(pty.master); } catch { /* closed */ } }
      resolve();
    };
    stream.on('data', (d) => { tee?.data(d); process.stdout.write(d); });
    stream.on('error', done); // EIO: every slave fd is closed, the container is gone
    stream.on('end', done);
  });
}

function rawMode(withStdin: boolean): () => void {
  if (!withStdin || !process.stdin.isTTY) return () => {};
  const saved = libc.makeRaw(0);
  const restore = () => libc.restoreTermios(0, saved);
  process.once('exit', restore); // also on an error path that never reaches done()
  return restore;
}
