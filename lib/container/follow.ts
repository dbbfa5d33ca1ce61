// Attached to a run the supervisor owns: `box start -a` and `box run --restart …` without -d
// (Docker's client attaches, and returns at the container's next exit while its daemon goes
// on restarting it). The output comes from the container's json-file log, read from where it
// stood when the run began; the run's end from its record: no longer running, or restarted
// meanwhile (its restart count moved). The supervisor writes the whole output to the log
// before it records the exit, so what is left to read then is read to the end.
import * as fs from 'node:fs';
import { load } from '../state/store';
import { logFile } from '../supervisor/logs';

export const logSize = (id: string): number => { try { return fs.statSync(logFile(id)).size; } catch { return 0; } };

/** Print the run's output from `from` on; its exit status. */
export async function followRun(id: string, from: number, restartsBefore: number, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let pos = from;
  let partial = '';
  const pump = () => {
    const size = logSize(id);
    if (size < pos) pos = 0; // rotated (lib/supervisor/logs.ts): the new file from its start
    if (size === pos) return;
    const buf = Buffer.alloc(size - pos);
    const fd = fs.openSync(logFile(id), 'r');
    try { fs.readSync(fd, buf, 0, buf.length, pos); } finally { fs.closeSync(fd); }
    pos = size;
    const lines = (partial + buf.toString()).split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      if (!l) continue;
      try {
        const e = JSON.parse(l);
        (e.stream === 'stderr' ? err : out).write(e.log);
      } catch { /* not a record */ }
    }
  };
  for (let delay = 10; ; delay = Math.min(delay * 2, 50)) {
    const s = load(id);
    const over = !s || (s.status !== 'running' && s.status !== 'created') || (s.restartCount ?? 0) > restartsBefore;
    pump();
    if (over) return s?.exitCode ?? 137;
    await new Promise((r) => setTimeout(r, delay));
  }
}
