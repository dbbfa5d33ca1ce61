// The container's terminal. The pty comes from the container's own devpts instance
// (opened through /proc/PID/root), so inside `tty` names /dev/pts/0 and the host's devpts
// is never shown. box relays between it and the user's terminal, which it puts in raw mode.
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import * as libc from '../libc';

export interface Pty { master: number; index: number }

export function openContainerPty(pid: number): Pty {
  const master = fs.openSync(`/proc/${pid}/root/dev/ptmx`, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  const index = libc.unlockPty(master);
  syncSize(master);
  return { master, index };
}

/** Copy the user's window size to the pty (the kernel then sends SIGWINCH inside). */
export function syncSize(master: number) {
  const out = process.stdout.isTTY ? process.stdout : process.stderr.isTTY ? process.stderr : undefined;
  if (out && out.columns) libc.setWinsize(master, out.rows, out.columns);
}

/** Relay pty ↔ user terminal; resolves when the container side has closed. */
export function relayPty(pty: Pty, withStdin: boolean): Promise<void> {
  const stream = new tty.ReadStream(pty.master);
  const restore = rawMode(withStdin);
  const onResize = () => { try { syncSize(pty.master); } catch { /* closed */ } };
  process.stdout.on('resize', onResize);
  if (withStdin) process.stdin.on('data', (d) => stream.write(d));
  return new Promise((resolve) => {
    const done = () => {
      process.stdout.off('resize', onResize);
      if (withStdin) process.stdin.pause();
      restore();
      resolve();
    };
    stream.on('data', (d) => process.stdout.write(d));
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
