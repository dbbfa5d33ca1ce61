// `__anchor`: the parent of a store's supervisor, and what keeps detached containers'
// exit statuses when that supervisor dies. A supervisor spawns every detached container,
// so it is their parent and reaps them. If it is SIGKILLed, the kernel gives its children
// to the nearest subreaper above it — this anchor — which, being `sleep`, never reaps:
// a container that exits later stays a zombie, and its exit status stays readable in
// /proc/PID/stat until the next supervisor (or any box that collects) records it. Then the
// anchor is released (lib/state/anchors.ts) and init reaps what it held.
// Node sets PR_SET_CHILD_SUBREAPER on itself (it survives execve), spawns the supervisor,
// and becomes `sleep` for 68 years: a few hundred kB instead of a Node process.
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import * as libc from '../libc';
import { PR } from '../libc/constants';
import { selfArgs } from '../container/launch';

const SLEEP = ['/bin/sleep', '/usr/bin/sleep'];
// A small young generation: the supervisor is long-lived and allocates little at a time, and
// V8 otherwise grows the semi-spaces to 16 MB each (measured: 23.4 → 16.1 MB of anonymous
// memory with 90 containers supervised, the same at 10).
const SUPERVISOR_V8_FLAGS = '--max-semi-space-size=1';

export function anchor(): number | undefined {
  libc.prctl(PR.SET_CHILD_SUBREAPER, 1);
  // fd 2: the supervisor's log; fd 3: the pipe its first words go back to the client on
  spawn(process.execPath, [SUPERVISOR_V8_FLAGS, ...selfArgs(), '__supervisor', String(process.pid)], { stdio: ['ignore', 'ignore', 2, 3], env: process.env });
  const sleep = SLEEP.find((p) => fs.existsSync(p));
  if (!sleep) {
    // no coreutils: stay Node, which reaps only the children it spawned itself (libuv waits by pid)
    setInterval(() => {}, 1 << 30);
    return undefined;
  }
  libc.resetSignals();      // a disposition Node set to SIG_IGN (SIGPIPE) would survive execve; SIGCHLD must be default, never ignored (ignored = auto-reaped)
  libc.closeRangeCloexec(3); // the client's pipe included: its EOF must come from the supervisor alone
  // BOX_ROOT only, to say whose it is (a test suite finds its own store's processes by it)
  // 68 years, not "infinity": busybox's sleep (a host may have only that) reads plain seconds
  return libc.execve(sleep, ['box-anchor', '2147483647'], process.env.BOX_ROOT ? [`BOX_ROOT=${process.env.BOX_ROOT}`] : []);
}
