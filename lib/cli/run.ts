// box run [OPTIONS] IMAGE [COMMAND [ARG...]]
// Attached: create the container, run it with the user's terminal or stdio, forward
// signals, tear down, exit with its status. With -d a supervisor does the running.
// When a supervisor runs, an attached run is handed to it whole (its warm pool starts the
// container; lib/supervisor/run-client.ts): then this process only parses the flags and
// passes its fds on, so what only the cold path and -d need is required when they run —
// esbuild turns such a require() into a lazy module init, and the code cache of the `run`
// verb then holds only what runs.
import { parseRun, RunRequest } from '../options/run';
import { runPooled, checkInputTerminal } from '../supervisor/run-client';
import { claimCidfile, withCidfile } from './cidfile';

export async function run(args: string[]): Promise<number> {
  const req = parseRun(args);
  if (!req.detach) checkInputTerminal('run', req.spec.tty, req.spec.stdin);
  if (!req.detach && req.spec.restart && req.spec.restart.name !== 'no') return runRestarting(req);
  if (!req.detach && req.cidfile === undefined) { // --cidfile: the id is known here only when this process creates it
    const pooled = await runPooled(req);
    // without -t nothing went through process.stdout: exit now, not once it drained (box.ts
    // exit(); making the stream of a piped stdout loads Node's `net`, ~4 ms)
    if (pooled !== undefined && !req.spec.tty) process.exit(pooled);
    if (pooled !== undefined) return pooled;
  }
  return runHere(req);
}

/** Create the container in this process: `run -d` (then a supervisor runs it), or attached and cold. */
async function runHere(req: RunRequest): Promise<number> {
  const { createContainer } = require('../container/create') as typeof import('../container/create');
  const warn = (w: string) => process.stderr.write(`WARNING: ${w}\n`);
  const cid = claimCidfile(req.cidfile, 'run');
  if (!req.detach) return runCold(req, (r, verb, w, early) => withCidfile(cid, () => createContainer(r, verb, w, early)), warn);
  const state = withCidfile(cid, () => createContainer(req, 'run', warn));
  const { detach } = require('../container/supervisor') as typeof import('../container/supervisor');
  await detach(state, 'run');
  process.stdout.write(`${state.id}\n`);
  return 0;
}

/**
 * Attached, with no supervisor to hand it to: this process runs it. Its stage is spawned
 * first, as a pooled one (it waits for its config and stdio) — by run-fast.ts, before box's
 * code loaded — so that its Node start-up (~50 ms) runs while this process loads, parses and
 * makes the container, and it joins the container's cgroups
 * as soon as they exist (createContainer's EarlyJoin): the warm pool's path, with a pool of one.
 */
async function runCold(req: RunRequest, createContainer: typeof import('../container/create').createContainer, warn: (w: string) => void): Promise<number> {
  const { pooledStage, takeEarlyStage } = require('../container/pool') as typeof import('../container/pool');
  const { runContainer } = require('../container/start') as typeof import('../container/start');
  const { teardown } = require('../container/teardown') as typeof import('../container/teardown');
  const { attachedIO } = require('../terminal/stdio') as typeof import('../terminal/stdio');
  const { forwardSignals } = require('../util/signals') as typeof import('../util/signals');
  const stage = takeEarlyStage() ?? pooledStage(); // run-fast.ts spawned it before box's code loaded
  const pid = stage.child.pid!;
  const unforward = forwardSignals(() => pid); // to the stage; after execve, to the container's PID 1
  const early = { pid };
  let state;
  try {
    state = createContainer(req, 'run', warn, early);
  } catch (e) {
    unforward();
    stage.child.kill('SIGKILL'); // it waited for a config that never comes
    stage.close();
    throw e;
  }
  let log: import('../supervisor/attached-log').AttachedLog | undefined;
  let failed = true;
  try {
    // Docker logs every container's output; box all but --rm's (see attached-log.ts)
    const { AttachedLog, logsAttached } = require('../supervisor/attached-log') as typeof import('../supervisor/attached-log');
    try {
      if (logsAttached(state.spec)) log = new AttachedLog(state.id, state.spec, ['stdout', 'stderr']);
    } catch (e) {
      stage.child.kill('SIGKILL'); // it waited for a config that never comes
      stage.close();
      throw e;
    }
    const status = await runContainer(state, attachedIO(state.spec.tty, state.spec.stdin, false, log), stage, early);
    failed = false;
    return status;
  } finally {
    await log?.finish(!failed); // all of the output with the user and in the log before the status
    unforward();
    teardown(state, (w) => process.stderr.write(`box: warning: ${w}\n`));
  }
}

/**
 * Attached with a restart policy: as Docker, the container belongs to the supervisor (which
 * restarts it), and this client shows its output and returns its status at its first exit;
 * the container goes on as its policy says. The output comes through its log, so stdin
 * (-i) is not connected and -t gives no terminal here; signals are forwarded.
 */
async function runRestarting(req: RunRequest): Promise<number> {
  const { createContainer } = require('../container/create') as typeof import('../container/create');
  const { detach } = require('../container/supervisor') as typeof import('../container/supervisor');
  const { followRun } = require('../container/follow') as typeof import('../container/follow');
  const state = createContainer(req, 'run', (w) => process.stderr.write(`WARNING: ${w}\n`));
  await detach(state, 'run');
  // Docker's sig-proxy: the client's signals go to the container (a kill, which, as Docker's,
  // calls the restart off: Ctrl-C ends it for good)
  const { kill } = require('../container/kill') as typeof import('../container/kill');
  const forward = (sig: NodeJS.Signals) => { kill(state.id, sig).catch(() => { /* not running */ }); };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  for (const sig of sigs) process.on(sig, forward);
  try {
    return await followRun(state.id, 0, 0);
  } finally {
    for (const sig of sigs) process.off(sig, forward);
  }
}
