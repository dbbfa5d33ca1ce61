// box as a Node library (M18): containers run from a long-lived Node process — a test
// runner, a code-execution service — over the same Container API the CLI uses
// (lib/container/). The caller's process must be root, as for `box run`.
//   run(options | argv)   create, run attached, collect stdout/stderr, tear down → result
//   start(options | argv) the same, streaming: stdin/stdout/stderr, wait(), kill()
//   usePool(k)            keep k pre-booted stages: a run then skips the stage's Node start-up
//   create/exec/kill/stop/wait/remove/list/get  the Container API's verbs by id or name
// Nothing here prints or exits; every failure is a ContainerError with a `code`. An idle
// pool does not keep the caller's event loop alive; a running container does.
import * as tty from 'node:tty';
import { Readable, Writable } from 'node:stream';
import { StdioOptions } from 'node:child_process';
import { parseRun, RunRequest, RUN_OPTIONS } from './options/run';
import { HelpRequested } from './options/flags';
import { createContainer, EarlyJoin } from './container/create';
import { runContainer, RunIO } from './container/start';
import { teardown } from './container/teardown';
import { detach } from './container/supervisor';
import { exec as execIn, ExecOptions } from './container/exec';
import { signalPid1, parseSignal } from './container/kill';
import { get } from './container/query';
import { ContainerError } from './container/errors';
import { StagePool } from './container/pool';
import type { Stage } from './container/stage';
import type { ContainerState } from './state/store';

export { ContainerError, ContainerErrorCode } from './container/errors';
export { kill, stop, wait } from './container/kill';
export { remove, prune } from './container/remove';
export { get, list } from './container/query';
export { startCreated } from './container/supervisor';
export { StagePool } from './container/pool';
export type { ContainerState } from './state/store';

/**
 * `box run`'s flags as an object: a key is the flag's long name in camelCase (memory,
 * cpus, pidsLimit, readOnly, capAdd, securityOpt…), plus `image` and `command`; `stdin`
 * is -i and `volumes` -v. A list repeats the flag, an env object becomes KEY=VALUE.
 */
export interface RunOptions {
  image: string;
  command?: string[];
  entrypoint?: string;
  name?: string;
  hostname?: string;
  env?: string[] | Record<string, string>;
  envFile?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  stdin?: boolean;
  rm?: boolean;
  init?: boolean;
  readOnly?: boolean;
  privileged?: boolean;
  volumes?: string[];
  tmpfs?: string[];
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  stopSignal?: string;
  stopTimeout?: number;
  memory?: string | number;
  memorySwap?: string | number;
  memoryReservation?: string | number;
  cpus?: string | number;
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  noPivot?: boolean;
  addHost?: string[];   // NAME:IP
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  sysctl?: string[];    // KEY=VALUE, namespaced keys only
  groupAdd?: string[];
}

/** How a run is carried out (not part of the container). */
export interface RunExtras {
  /** Written to the container's stdin, then closed (implies `stdin`). */
  input?: string | Buffer;
  /** Where to take a pre-booted stage: the pool usePool() set by default; false for a cold start. */
  pool?: StagePool | false;
}

export interface RunResult {
  id: string;
  name: string;
  exitCode: number;
  stdout: Buffer;     // with tty: everything the terminal showed
  stderr: Buffer;
  oomKilled: boolean;
  warnings: string[]; // Docker's warnings (a limit this host cannot apply)
}

/** A container started by start(): its streams while it runs, its exit code when it ends. */
export interface Container {
  id: string;
  name: string;
  pid: number;               // its PID 1, as the host sees it
  stdin: Writable | null;    // with `stdin` (or tty + stdin): end() it to send EOF
  stdout: Readable;          // with tty: the terminal; read it, or a full pipe stalls the container
  stderr: Readable;          // empty with tty
  /** The exit code, once the container ended and was torn down. */
  wait(): Promise<number>;
  /** Signal its PID 1 (SIGKILL by default); false if it is gone. */
  kill(signal?: string | number): boolean;
}

let defaultPool: StagePool | undefined;

/** Keep `k` pre-booted stages for run/start from now on (0: none); the pool in use. Replaces (and closes) the previous one. */
export function usePool(k: number): StagePool | undefined {
  const old = defaultPool;
  defaultPool = k > 0 ? new StagePool(k) : undefined;
  old?.close();
  return defaultPool;
}

/** Flags for `box run` from RunOptions (pure). */
export function runArgs(o: RunOptions): string[] {
  if (!o || typeof o.image !== 'string' || !o.image || o.image.startsWith('-')) throw new ContainerError('invalid', `box run: options need an image (not ${JSON.stringify(o?.image)})`);
  const args: string[] = [];
  for (const [key, value] of Object.entries(o)) {
    if (key === 'image' || key === 'command' || value === undefined || value === false) continue;
    const flag = key === 'stdin' ? 'interactive' : key === 'volumes' ? 'volume' : key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const def = RUN_OPTIONS[flag];
    if (!def || flag === 'detach' || flag === 'help') throw new ContainerError('invalid', `box run: unknown option "${key}"`);
    if (def.type === 'boolean') { args.push(`--${flag}`); continue; }
    const values = Array.isArray(value) ? value : key === 'env' && typeof value === 'object' ? Object.entries(value).map(([k, v]) => `${k}=${v}`) : [value];
    for (const v of values) args.push(`--${flag}=${v}`);
  }
  return [...args, o.image, ...(o.command ?? [])];
}

/** Run a container to its end and collect its output. Always torn down as `box run` does (the record kept unless `rm`). */
export async function run(what: RunOptions | string[], how: RunExtras = {}): Promise<RunResult> {
  const out: Buffer[] = [], err: Buffer[] = [];
  const { state, warnings, tty: withTty, stdin, stage, early } = prepare(what, how, poolOf(how));
  const io: RunIO = {
    stdio: withTty ? ['ignore', 'ignore', 'ignore'] : [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    attach(child, pty) {
      if (pty) {
        const term = new tty.ReadStream(pty.master);
        if (how.input !== undefined) term.write(how.input);
        return [collect(term, out)];
      }
      child.stdin?.end(how.input ?? '');
      return [collect(child.stdout!, out), collect(child.stderr!, err)];
    },
  };
  const exitCode = await runOwned(state, io, stage, early);
  return { id: state.id, name: state.name, exitCode, stdout: Buffer.concat(out), stderr: Buffer.concat(err), oomKilled: !!state.oomKilled, warnings };
}

/** Start a container and return once its command runs, with its streams. */
export async function start(what: RunOptions | string[], how: Omit<RunExtras, 'input'> = {}): Promise<Container> {
  const { state, tty: withTty, stdin, stage, early } = prepare(what, how, poolOf(how));
  let streams: Pick<Container, 'stdin' | 'stdout' | 'stderr'> | undefined;
  let running!: () => void;
  const isRunning = new Promise<void>((r) => { running = r; });
  const ends = (s: Readable) => new Promise<void>((done) => { s.on('close', () => done()); s.on('error', () => done()); });
  const io: RunIO = {
    stdio: (withTty ? ['ignore', 'ignore', 'ignore'] : [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe']) as StdioOptions,
    attach(child, pty) {
      if (pty) {
        const term = new tty.ReadStream(pty.master);
        streams = { stdin: stdin ? term : null, stdout: term, stderr: Readable.from([]) };
        return [ends(term)];
      }
      streams = { stdin: child.stdin, stdout: child.stdout!, stderr: child.stderr! };
      return [ends(child.stdout!), ends(child.stderr!)];
    },
    onRunning: () => running(),
  };
  const done = runOwned(state, io, stage, early);
  done.catch(() => { /* wait() reports it; never an unhandled rejection when nobody waits */ });
  await Promise.race([isRunning, done]); // a setup failure rejects here
  return {
    id: state.id, name: state.name, pid: state.pid!, ...streams!,
    wait: () => done,
    kill: (signal = 'SIGKILL') => signalPid1(state, typeof signal === 'number' ? signal : parseSignal(signal)),
  };
}

/** `box create`: set up and waiting, held by a supervisor; startCreated(id) starts it. */
export async function create(what: RunOptions | string[]): Promise<ContainerState> {
  const { state } = prepare(what, {});
  await library(() => detach(state, 'create'));
  return get(state.id);
}

/** Run a command in a running container (by id or name) and collect its output. */
export async function exec(ref: string, command: string[] | ExecOptions, input?: string | Buffer): Promise<{ exitCode: number; stdout: Buffer; stderr: Buffer }> {
  const o: ExecOptions = Array.isArray(command) ? { command } : command;
  if (o.detach) throw new ContainerError('invalid', 'box exec: detach is not supported here');
  const out: Buffer[] = [], err: Buffer[] = [];
  const withStdin = !!o.stdin || input !== undefined;
  const exitCode = await library(() => execIn(get(ref), { ...o, stdin: withStdin }, {
    stdio: o.tty ? ['ignore', 'ignore', 'ignore'] : [withStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    attach(child, pty) {
      if (pty) {
        const term = new tty.ReadStream(pty.master);
        if (input !== undefined) term.write(input);
        return [collect(term, out)];
      }
      child.stdin?.end(input ?? '');
      return [collect(child.stdout!, out), collect(child.stderr!, err)];
    },
  }));
  return { exitCode, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

/** Gather a stream's chunks until it closes (or a pty's EIO: the container is gone). */
function collect(from: Readable, into: Buffer[]): Promise<void> {
  return new Promise<void>((done) => {
    from.on('data', (d: Buffer) => into.push(d));
    from.on('error', () => done());
    from.on('close', () => done());
  });
}

/** The pool a run takes its stage from: the one usePool() set unless the caller names one (or false). */
const poolOf = (how: RunExtras): StagePool | undefined => (how.pool === false ? undefined : how.pool ?? defaultPool);

/**
 * Parse and create: the record, the layer, the cgroups. With a pool, its idle stage (if any)
 * is taken first: it is this container's from then on, and joins the container's cgroups as
 * soon as they exist, while the rest is made (createContainer's EarlyJoin).
 */
function prepare(what: RunOptions | string[], how: RunExtras, pool?: StagePool) {
  const req: RunRequest = syncLibrary(() => {
    try {
      return parseRun(Array.isArray(what) ? what : runArgs(what));
    } catch (e) {
      if (e instanceof HelpRequested) throw new ContainerError('invalid', 'box run: --help is for the CLI');
      throw e;
    }
  });
  if (req.detach) throw new ContainerError('invalid', 'box run: -d: a library caller runs containers attached (start() streams them, create() leaves one to a supervisor)');
  if (how.input !== undefined) req.spec.stdin = true;
  const warnings: string[] = [];
  const stage = pool?.take();
  const early: EarlyJoin | undefined = stage && { pid: stage.child.pid! };
  try {
    const state = syncLibrary(() => createContainer(req, 'run', (w) => warnings.push(w), early));
    return { state, warnings, tty: req.spec.tty, stdin: req.spec.stdin, stage, early };
  } catch (e) {
    if (stage) { stage.child.kill('SIGKILL'); stage.close(); } // it waited for a config that never comes
    throw e;
  }
}

/** runContainer on the pooled stage prepare() took (else a cold one), then teardown as `box run` does. */
async function runOwned(state: ContainerState, io: RunIO, stage: Stage | undefined, early: EarlyJoin | undefined): Promise<number> {
  try {
    return await library(() => runContainer(state, io, stage, early));
  } finally {
    teardown(state);
  }
}

/** Every error as a ContainerError: box's own carry the CLI's message and status. */
function asContainerError(e: any): ContainerError {
  if (e instanceof ContainerError) return e;
  const status = typeof e?.status === 'number' ? e.status : 125;
  const code = e?.name === 'SysError' || e?.call ? 'setup' : 'invalid';
  return Object.assign(new ContainerError(code, String(e?.message ?? e), status), { cause: e });
}

async function library<T>(fn: () => Promise<T>): Promise<T> {
  try { return await fn(); } catch (e) { throw asContainerError(e); }
}

function syncLibrary<T>(fn: () => T): T {
  try { return fn(); } catch (e) { throw asContainerError(e); }
}
