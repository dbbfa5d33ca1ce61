// Docker's "Are you sure you want to continue? [y/N]", shared by the prune verbs.
import * as fs from 'node:fs';

/** Ask on stdout, read one line of stdin (a terminal or a pipe: `echo y | box prune`); EOF is no. */
export function confirm(question: string): boolean {
  process.stdout.write(question);
  let line = '';
  const b = Buffer.alloc(1);
  for (;;) {
    let n = 0;
    try { n = fs.readSync(0, b, 0, 1, null); } catch (e: any) { if (e.code === 'EAGAIN') continue; n = 0; }
    if (n === 0 || b[0] === 0x0a) break;
    line += String.fromCharCode(b[0]);
  }
  return /^\s*y(es)?\s*$/i.test(line);
}
