// Finding the program to run inside the container, with execvp's rules and Docker's words
// and exit codes: 127 when it is not there, 126 when it cannot be run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc } from '../libc/seam';

export class CommandError extends Error {
  constructor(message: string, readonly status: 126 | 127) { super(message); }
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

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
