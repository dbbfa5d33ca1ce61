// Finding the program to run inside the container, with execvp's rules and Docker's words
// and exit codes: 127 when it is not there, 126 when it cannot be run; the same for an
// execve that fails nonetheless (a user without x, a missing #! interpreter).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc } from '../libc/seam';
import { SysError } from '../libc/errors';
import { DEFAULT_PATH } from '../util/defaults';

export class CommandError extends Error {
  constructor(message: string, readonly status: 126 | 127) { super(message); }
}

export function resolveCommand(cmd: string, env: string[]): string {
  if (!cmd) throw new CommandError('no command specified', 127);
  if (cmd.includes('/')) {
    check(cmd, cmd);
    return cmd;
  }
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  for (const dir of pathVar.split(':')) {
    const p = path.join(dir || '.', cmd);
    try {
      const st = libc.stat(p);
      if (st.isFile() && (st.mode & 0o111)) return p;
    } catch { /* next */ }
  }
  throw new CommandError(`exec: "${cmd}": executable file not found in $PATH`, 127);
}

function check(p: string, cmd: string) {
  let st: fs.Stats;
  try {
    st = libc.stat(p);
  } catch {
    throw new CommandError(`exec: "${cmd}": no such file or directory`, 127);
  }
  if (st.isDirectory()) throw new CommandError(`exec: "${cmd}": is a directory`, 126);
  if (!(st.mode & 0o111)) throw new CommandError(`exec: "${cmd}": permission denied`, 126);
}

const ENOENT = 2, ENOEXEC = 8, EACCES = 13;
const EXEC_ERRORS: Record<number, [string, 126 | 127]> = {
  [EACCES]: ['permission denied', 126],   // no x for this user, or a noexec mount
  [ENOEXEC]: ['exec format error', 126],  // neither a binary for this machine nor a #! script
  [ENOENT]: ['no such file or directory', 127], // the file is there: its #! interpreter or ELF loader is not
};

/**
 * An execve that failed after the checks above passed, as the exit status Docker gives: 126
 * when the file cannot be run, 127 when what it needs to run is missing; runc's words
 * ("exec /x: permission denied"). Anything else stays box's own error (125).
 */
export function execFailure(e: unknown): unknown {
  if (!(e instanceof SysError) || e.call !== 'execve' || !EXEC_ERRORS[e.errno]) return e;
  const [text, status] = EXEC_ERRORS[e.errno];
  return new CommandError(`exec ${e.target}: ${text}`, status);
}

/**
 * The same for the command `exec` spawns: Node reports execve's errno as the error's code.
 * (libuv retries an ENOEXEC file with /bin/sh, as execvp does: that one runs.)
 */
export function spawnFailure(e: NodeJS.ErrnoException, file: string): CommandError {
  const errno = { EACCES, ENOEXEC, ENOENT }[e.code as string];
  const known = errno === undefined ? undefined : EXEC_ERRORS[errno];
  return known ? new CommandError(`exec ${file}: ${known[0]}`, known[1]) : new CommandError(`exec ${file}: ${e.message}`, 126);
}
