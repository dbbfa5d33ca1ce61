// Starting a stage (`__init`, `__exec`): a fresh Node running this same file, because Node
// cannot fork. What a stage is started with matters to containment:
//  - its executable is a read-only clone of `node` (lib/libc/exe.ts), passed as an fd and
//    executed through /proc/self/fd: the `__init` stage is PID 1 of the container until it
//    execs, and a `#!/proc/self/exe` command must not hand the container the host's binary;
//  - its environment is not the caller's: only PATH and box's own settings;
//  - fd 3 is the JSON channel, fd 4 a socket for passing fds (the pty master) back to box.
// `__init` is born in a new pid namespace: unshare(CLONE_NEWPID) on box's main thread
// applies to children made afterwards; box setns's straight back, because a thread left in
// an unshared pid ns cannot create threads and libuv makes its pool lazily.
// `__exec` stays in the host's pid namespace (it is never visible to the container): it
// joins the other namespaces itself and spawns only the user's command into the container's.
import * as fs from 'node:fs';
import { ChildProcess, StdioOptions } from 'node:child_process';
import { libc } from '../libc/seam';
import { CLONE } from '../libc/constants';
import { EXE_FD } from '../inside/protocol';
import { DEFAULT_PATH } from '../util/defaults';

const STAGE_ENV = ['BOX_ROOT', 'BOX_DEBUG', 'BOX_CACHE_DIR', 'BOX_NO_OVERLAY', 'BOX_OLD_KERNEL', 'NODE_OPTIONS'];

export interface Stage { child: ChildProcess; fdSock: number }

/** The script to re-execute: the bundle itself, or box.ts under tsx in development. */
export function selfScript(): string {
  return fs.realpathSync(process.argv[1]);
}

let exe: number | undefined;
/** An fd on an unwritable copy of this process's node binary, made once per box process. */
function stageExecutable(): number {
  exe ??= libc.readOnlyClone(process.execPath) ?? libc.sealedExecutable('box-node', process.execPath);
  return exe;
}

/** A stage's (and the supervisor's) environment: PATH and box's own settings, nothing else of the caller's. */
export function stageEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: DEFAULT_PATH };
  for (const k of STAGE_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  return env;
}

export interface SpawnOptions {
  newPidNs?: boolean;
  pidNsPath?: string;       // OCI: join this pid namespace instead (a pod's shared one), the same way: setns, spawn, setns back
  detached?: boolean;
}

export function spawnStage(verb: '__init' | '__exec', stdio: StdioOptions, opts: SpawnOptions = {}): Stage {
  const [mine, theirs] = libc.socketPair();
  const run = () => libc.spawn(`/proc/self/fd/${EXE_FD}`, [...process.execArgv, selfScript(), verb], {
    stdio: [...(stdio as any[]).slice(0, 3), 'pipe', theirs, stageExecutable()],
    env: stageEnv(),
    detached: opts.detached,
  });
  try {
    if (!opts.newPidNs && !opts.pidNsPath) return { child: run(), fdSock: mine };
    const target = opts.pidNsPath ? libc.open(opts.pidNsPath, 'r') : -1; // before anything changes: a bad path fails cleanly
    const pidns = libc.open('/proc/self/ns/pid', 'r');
    try {
      if (target >= 0) libc.setns(target, CLONE.NEWPID, `pid (${opts.pidNsPath})`); else libc.unshare(CLONE.NEWPID);
    } catch (e) {
      libc.close(pidns);
      throw e;
    } finally {
      if (target >= 0) libc.close(target);
    }
    try {
      return { child: run(), fdSock: mine };
    } finally {
      libc.setns(pidns, CLONE.NEWPID, 'pid (back to the host)');
      libc.close(pidns);
    }
  } finally {
    libc.close(theirs);
  }
}
