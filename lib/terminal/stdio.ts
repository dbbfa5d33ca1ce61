// The user's stdio for an attached container or exec, Docker's way: stdin only with -i;
// with -t a pty (see tty.ts) and no plain stdio; otherwise box's own fds are handed over
// only when they are pipes, sockets or /dev/null (handover.ts); anything else is relayed
// through pipes of its own:
//   - a terminal: the container could push input into it with TIOCSTI;
//   - a regular file: through /proc/self/fd/N the container reopens the host file itself,
//     read-write (it is root) — `box run -i … < /etc/shadow` would let it rewrite the host's
//     file, `>> log` read what was in the log before and truncate it.
// (Docker and podman always give a container pipes of their own.)
// A run whose output is logged (lib/supervisor/attached-log.ts) always gets pipes, and each
// chunk relayed goes into its log too; with -t, what the pty outputs (as stdout records).
import { ChildProcess, StdioOptions } from 'node:child_process';
import { relayPty } from './tty';
import { handOver } from './handover';
import type { IO } from '../container/stage';
import type { AttachedLog } from '../supervisor/attached-log';

export function stdioModes(tty: boolean, stdin: boolean, detach = false, logged = false): StdioOptions {
  if (tty || detach) return ['ignore', 'ignore', 'ignore'];
  // both or neither: a relayed stream and a handed-over one would interleave out of order
  const outMode = !logged && handOver(1) && handOver(2) ? 'inherit' : 'pipe';
  return [stdin ? (handOver(0) ? 'inherit' : 'pipe') : 'ignore', outMode, outMode];
}

/** Relay whatever was piped; resolves per stream when the container side closes it. */
export function relayStdio(child: ChildProcess, log?: AttachedLog): Promise<void>[] {
  if (child.stdin) process.stdin.pipe(child.stdin);
  const relays: Promise<void>[] = [];
  for (const [i, from, to] of [[0, child.stdout, process.stdout], [1, child.stderr, process.stderr]] as const) {
    if (from && log) {
      to.on('error', () => { /* the reader went away: the write's callback tells the copy */ });
      relays.push(log.copy(i, from, (d, done) => { to.write(d, done); }));
    } else if (from) relays.push(new Promise((r) => { from.on('data', (d) => to.write(d)); from.on('close', r); }));
    else log?.end(i);
  }
  return relays;
}

/** The user's terminal or stdio wired to a container's process (`box run`, `box exec`); `log`: the run's output goes there too. */
export function attachedIO(tty: boolean, stdin: boolean, detach = false, log?: AttachedLog): IO {
  const tee = log && { data: (d: Buffer) => log.push(0, d), end: () => log.end(0) };
  return {
    stdio: stdioModes(tty, stdin, detach, !!log),
    attach: (child, pty) => (pty ? [relayPty(pty, stdin, tee)] : relayStdio(child, log)),
  };
}
