// Reading a built ./box's head from outside it: the Node arguments that start that file the
// direct way (line 2's `exec node -e 'STUB' -- "$0"`, see scripts/build.ts), for a process
// that runs box from source but wants its helpers started from the bundle (tests: a stage
// under tsx takes ~700 ms to start, from the bundle ~90 ms).
import * as fs from 'node:fs';

export function directArgs(file: string): string[] {
  const real = fs.realpathSync(file);
  const fd = fs.openSync(real, 'r');
  try {
    const head = Buffer.alloc(4096);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const stub = /^#!\/bin\/sh\n":" \/\/;.* exec node -e '([^']+)' -- "\$0" "\$@"\n/.exec(head.toString('latin1', 0, n));
    if (!stub) throw new Error(`${file}: not a box bundle with a direct start (rebuild it: npm run build)`);
    return ['-e', stub[1], '--', real];
  } finally {
    fs.closeSync(fd);
  }
}
