// `box run`'s first try in the shipped ./box: a code part of its own (scripts/build.ts, ~80 KiB
// against box's ~560 KiB to read, decode and compile), which the loader (lib/bundle/loader.ts)
// runs before box's code. It does an attached run handed whole to the store's supervisor
// (lib/supervisor/run-client.ts) and exits with its status. Anything else — -d, --help, a
// flag error, a terminal that needs relays, no supervisor or one on its way out — answers
// false before anything was made, and the loader goes on with box's code, which does it the
// usual way (lib/cli/run.ts; a flag error is found again there and printed as usual). With no
// supervisor at all, it first spawns the cold run's stage, which boots while box's code loads.
import { parseRun } from '../options/run';
import { runPooled, checkInputTerminal } from '../supervisor/run-client';
import { BoxError } from '../libc/errors';
import { func } from '../libc/core';
import * as fs from 'node:fs';
import { SUPERVISOR_SOCKET } from '../state/paths';

/** True when the run was done here (the process is exiting with its status); false: nothing was done. */
export async function runFast(args: string[]): Promise<boolean> {
  let req;
  try { req = parseRun(args); } catch { return false; }
  // a restart policy: the supervisor runs it detached and lib/cli/run.ts follows it (runRestarting)
  if (req.detach || (req.spec.restart && req.spec.restart.name !== 'no')) return false;
  // no supervisor: lib/cli/run.ts runs it cold, here; its stage is started now (pool.ts spawnEarlyStage)
  if (!fs.existsSync(SUPERVISOR_SOCKET)) { startEarly(req.spec); return false; }
  // --cidfile: lib/cli/run.ts creates it here
  if (req.cidfile !== undefined) return false;
  let status: number | undefined;
  try {
    checkInputTerminal('run', req.spec.tty, req.spec.stdin);
    status = await runPooled(req);
  } catch (e: any) {
    // box.ts's way: the one line (box's own errors come whole), then the status
    const known = e instanceof BoxError || e?.name === 'SysError' || e?.call;
    process.stderr.write(`${known ? '' : 'box: '}${e?.message ?? e}\n`);
    status = typeof e?.status === 'number' ? e.status : 125;
  }
  if (status === undefined) return false;
  const code = status;
  // with -t the pty's output went through process.stdout: exit once it drained
  if (req.spec.tty) process.stdout.write('', () => exitNow(code));
  else exitNow(code);
  return true;
}

/** The cold run's stage, unless the run is about to fail anyway (box's code says why): not as another user, not -it without a terminal. */
function startEarly(spec: { tty: boolean; stdin: boolean }) {
  try {
    if (process.geteuid?.() !== 0) return;
    checkInputTerminal('run', spec.tty, spec.stdin);
    require('../container/pool').spawnEarlyStage();
  } catch { /* box's code does it the usual way */ }
}

/**
 * _exit(2) once this process's part is done: Node's own exit (its exit hooks, the platform's
 * and OpenSSL's clean-up) frees nothing the kernel does not, on every pooled run's path.
 * What the loader's exit hook would have done goes first: the code cache, on a first run.
 * Everything this part wrote went out synchronously (Linux: stdio pipes, files and ttys).
 */
function exitNow(code: number): never {
  (globalThis as any).__boxSaveCodeCache?.();
  func('void _exit(int status)')(code);
  throw new Error('_exit returned');
}
