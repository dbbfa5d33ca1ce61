// The user's stdio for an attached container or exec, Docker's way: stdin only with -i;
// with -t a pty (see tty.ts) and no plain stdio; otherwise box's own fds are handed over,
// unless they are a terminal — a container must not get the host's tty, it could push
// input into it with TIOCSTI — in which case box relays through pipes.
import { ChildProcess, StdioOptions } from 'node:child_process';
import { relayPty } from './tty';
import type { IO } from '../container/stage';

export function stdioModes(tty: boolean, stdin: boolean, detach = false): StdioOptions {
  if (tty || detach) return ['ignore', 'ignore', 'ignore'];
  const ttyOut = process.stdout.isTTY || process.stderr.isTTY;
  const outMode = ttyOut ? 'pipe' : 'inherit';
  return [stdin ? (process.stdin.isTTY ? 'pipe' : 'inherit') : 'ignore', outMode, outMode];
}

/** Relay whatever was piped; resolves per stream when the container side closes it. */
export function relayStdio(child: ChildProcess): Promise<void>[] {
  if (child.stdin) process.stdin.pipe(child.stdin);
  const relays: Promise<void>[] = [];
  for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
    if (from) relays.push(new Promise((r) => { from.on('data', (d) => to.write(d)); from.on('close', r); }));
  }
  return relays;
}

/** The user's terminal or stdio wired to a container's process (`box run`, `box exec`). */
export function attachedIO(tty: boolean, stdin: boolean, detach = false): IO {
  return {
    stdio: stdioModes(tty, stdin, detach),
    attach: (child, pty) => (pty ? [relayPty(pty, stdin)] : relayStdio(child)),
  };
}
