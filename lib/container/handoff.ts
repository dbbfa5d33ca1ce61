// The stdio of a pooled stage. A cold stage gets fds 0–2 from Node's spawn; a pooled one
// was spawned before anyone knew its container, with /dev/null there. box hands it the
// container's stdio over the stage's fd socket (SCM_RIGHTS), queued before the config that
// lists them (StageConfig.stdio), and the stage dup2's them onto 0–2 before anything else.
// 'pipe' is what Node's spawn makes too: a fresh AF_UNIX stream pair, box's end wrapped as
// child.stdin/stdout/stderr, so the callers' `attach(child, pty)` works the same either way.
import * as net from 'node:net';
import { ChildProcess, StdioOptions } from 'node:child_process';
import { sendFd, streamPair } from '../libc/fdpass';
import { closeFd } from '../libc/seam';

/** What one of fds 0–2 becomes: a new pipe, or a copy of one of box's fds. 'ignore' needs nothing: /dev/null is there already. */
export type Handoff = { target: number; pipe: true } | { target: number; fd: number };

/** `stdio` read as Node's spawn reads it (missing entries are 'pipe'). */
export function stdioPlan(stdio: StdioOptions): Handoff[] {
  const list: any[] = typeof stdio === 'string' ? [stdio, stdio, stdio] : stdio;
  const plan: Handoff[] = [];
  for (let n = 0; n < 3; n++) {
    const m = list[n];
    if (m === 'ignore') continue;
    if (m == null || m === 'pipe' || m === 'overlapped') plan.push({ target: n, pipe: true });
    else if (m === 'inherit') plan.push({ target: n, fd: n });
    else if (typeof m === 'number') plan.push({ target: n, fd: m });
    else {
      const fd = m.fd ?? m._handle?.fd; // an fs stream, a socket
      if (typeof fd !== 'number' || fd < 0) throw new Error(`stdio[${n}]: ${typeof m === 'string' ? `'${m}'` : 'a stream without a file descriptor'} cannot be handed to a pooled stage`);
      plan.push({ target: n, fd });
    }
  }
  return plan;
}

/** Send each fd of the plan on `fdSock` (the child's pipe ends are closed here once sent); box's pipe ends become child.stdin/stdout/stderr. The targets, for StageConfig.stdio. */
export function handOver(plan: Handoff[], fdSock: number, child: ChildProcess): number[] {
  for (const h of plan) {
    if (!('pipe' in h)) { sendFd(fdSock, h.fd); continue; }
    const [mine, theirs] = streamPair();
    try { sendFd(fdSock, theirs); } finally { closeFd(theirs); }
    const stream = new net.Socket({ fd: mine, readable: h.target !== 0, writable: h.target === 0 });
    const key = (['stdin', 'stdout', 'stderr'] as const)[h.target];
    (child as any)[key] = stream;
    (child.stdio as any)[h.target] = stream;
  }
  return plan.map((h) => h.target);
}
