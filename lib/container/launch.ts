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
import * as path from 'node:path';
import { ChildProcess, StdioOptions } from 'node:child_process';
import { libc } from '../libc/seam';
import { CLONE } from '../libc/constants';
import { EXE_FD } from '../inside/protocol';
import { DEFAULT_PATH } from '../util/defaults';
import { directArgs } from '../bundle/head';

// BOX_POOL: the supervisor (started with this environment, through its anchor) reads it
const STAGE_ENV = ['BOX_ROOT', 'BOX_DEBUG', 'BOX_CACHE_DIR', 'BOX_NO_OVERLAY', 'BOX_OLD_KERNEL', 'BOX_POOL', 'NODE_OPTIONS'];

export interface Stage { child: ChildProcess; fdSock: number }

/**
 * Node's arguments that start box again as a helper process (a stage, the supervisor, the
 * layer unpacker), up to where the verb goes. From the bundle: its own direct way in
 * (lib/bundle/loader.ts), which reads only the parts it needs — never process.argv[1] or
 * process.execArgv, which belong to the host app when box is a library (its script, its
 * --inspect). In development: box.ts beside lib/, with only the module hooks of
 * process.execArgv (tsx's --require/--import), which box.ts needs to load at all, or
 * tsx's require hook when this process got its hooks another way (uvu -r tsx).
 */
export function selfArgs(): string[] {
  const bundle: string[] | undefined = (globalThis as any).__boxSelf ?? chosenBundle;
  if (bundle) return bundle;
  const hooks: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (/^(--require|-r|--import|--loader|--experimental-loader)$/.test(argv[i])) hooks.push(argv[i], argv[++i]);
    else if (/^(--require|--import|--loader|--experimental-loader)=/.test(argv[i])) hooks.push(argv[i]);
  }
  if (!hooks.length) hooks.push('--require', require.resolve('tsx/cjs'));
  return [...hooks, path.join(__dirname, '..', '..', 'box.ts')];
}

let chosenBundle: string[] | undefined;
/** Running from source, start helpers from this built ./box instead (tests: tsx stages are slow). */
export function useBundle(file: string) {
  chosenBundle = directArgs(file);
}

/**
 * The environment of box's helper processes that keep the caller's (the layer unpacker):
 * NODE_EXTRA_CA_CERTS renamed BOX_EXTRA_CA_CERTS, since Node would load it at their start-up
 * (~90 ms) and only the registry client needs it (lib/bundle/extra-ca.ts). Stages and the
 * supervisor get stageEnv.
 */
export function selfEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (!env.NODE_EXTRA_CA_CERTS) return env;
  const { NODE_EXTRA_CA_CERTS, ...rest } = env;
  return { ...rest, BOX_EXTRA_CA_CERTS: NODE_EXTRA_CA_CERTS };
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
  args?: string[];          // after the verb (a pooled __init: POOLED_ARG)
}

export function spawnStage(verb: '__init' | '__exec', stdio: StdioOptions, opts: SpawnOptions = {}): Stage {
  const [mine, theirs] = libc.socketPair();
  const run = () => libc.spawn(`/proc/self/fd/${EXE_FD}`, [...selfArgs(), verb, ...(opts.args ?? [])], {
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
