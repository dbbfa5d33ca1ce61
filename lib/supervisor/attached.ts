// An attached `box run` through the supervisor's warm pool (the client is lib/cli/run.ts,
// via run-client.ts runPooled): the client parsed the flags and sent the request as data
// with its own stdio fds; the supervisor creates the container (record, layer, cgroups), runs
// it on a pre-booted stage with those fds as the container's 0–2 — so no relay is needed —
// or, with -t, passes the pty master back for the client to relay the user's terminal, and
// tears it down. A run that is logged (attached-log.ts: not --rm, not --log-driver none) gets
// pipes instead, whose output this process copies to the client's fds and into the log,
// drained before the exit status is sent; with -t, this process reads the master (and logs
// it) and the client relays the user's terminal through a socket pair. Replies: {warning}…
// then {error, status} or {attached, pid[, relayed]} … {exit}. If the client dies first,
// the container is killed and torn down here, as its parent-death signal would have done on
// the cold path.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tty from 'node:tty';
import { StdioOptions } from 'node:child_process';
import { processStart, signalProcess } from '../util/proc';
import { createContainer, EarlyJoin } from '../container/create';
import { runContainer } from '../container/start';
import { teardown } from '../container/teardown';
import { StagePool } from '../container/pool';
import type { Stage } from '../container/stage';
import { BoxError } from '../libc/errors';
import { streamPair } from '../libc/fdpass';
import { closeFd } from '../libc/seam';
import { ContainerState } from '../state/store';
import { Identity } from './container';
import { checkRunRequest } from './run-request';
import { KNOBS } from './run-client';
import { AttachedLog, fdSink, logsAttached } from './attached-log';

export type Send = (m: object, fds?: number[]) => void;

/** The one line the CLI prints for an error (box.ts does the same for the cold path). */
function errorLine(e: any): string {
  const known = e instanceof BoxError || e?.name === 'SysError' || e?.call;
  return `${known ? '' : 'box: '}${e?.message ?? e}`;
}

/** `msg`: the client's request (run-client.ts runMessage); `fds`: its fds for the container's fds msg.stdio (the others get /dev/null). */
export async function runAttached(msg: any, fds: number[], me: Identity, pool: StagePool | undefined, send: Send, clientGone: Promise<void>): Promise<void> {
  try {
    // made here as the client would have made it: a client whose settings differ runs it itself
    if (!msg.knobs || KNOBS.some((k) => msg.knobs[k] !== (process.env[k] ?? ''))) { send({ cold: true }); return; }
    let state: ContainerState;
    // the pooled stage is taken first and joins the container's cgroups as soon as they exist
    // (createContainer's EarlyJoin), as the library does
    let stage: Stage | undefined;
    let early: EarlyJoin | undefined;
    try {
      const req = checkRunRequest(msg.runAttached, msg.imagePath);
      const targets = msg.stdio;
      const ok = Array.isArray(targets) && targets.length === fds.length && new Set(targets).size === targets.length &&
        targets.every((t: unknown) => t === 0 || t === 1 || t === 2) && (!req.spec.tty || !targets.length);
      if (!ok) throw new BoxError('box: supervisor: invalid run request (stdio)');
      // a logged run with a terminal, from a client that cannot relay it through a socket: it runs it itself
      if (req.spec.tty && logsAttached(req.spec) && msg.ptyRelay !== true) { send({ cold: true }); return; }
      stage = pool?.take();
      early = stage && { pid: stage.child.pid! };
      state = createContainer(req, 'run', (w) => send({ warning: `WARNING: ${w}` }), early, { collectLater: true }); // daemon.ts collects after the run
    } catch (e: any) {
      if (stage) { stage.child.kill('SIGKILL'); stage.close(); } // it waited for a config that never comes
      send({ error: errorLine(e), status: e?.status ?? 125 });
      return;
    }
    const stdio: StdioOptions = ['ignore', 'ignore', 'ignore'];
    (msg.stdio as number[]).forEach((t, i) => { stdio[t] = fds[i]; });
    const userFd = (t: number) => { const i = (msg.stdio as number[]).indexOf(t); return i < 0 ? undefined : fds[i]; };
    let log: AttachedLog | undefined;
    let failed = false;
    let pid: number | undefined;
    let ended = false, abandoned = false;
    // the client went away (SIGKILLed, its terminal closed) — before its stage was even
    // spawned, or while the container runs: the container goes too
    const end = () => { if (abandoned && !ended && pid) signalProcess(pid, processStart(pid), 9); };
    clientGone.then(() => { abandoned = true; end(); });
    let status = 125;
    try {
      // logged: the container writes into pipes of ours, copied to the client's fds 1 and 2;
      // with a terminal, this process reads the master and the client relays through a socket
      if (logsAttached(state.spec)) {
        log = new AttachedLog(state.id, state.spec, state.spec.tty ? ['stdout'] : ['stdout', 'stderr']);
        if (!state.spec.tty) stdio[1] = stdio[2] = 'pipe';
      }
      status = await runContainer(state, {
        stdio,
        onSpawn: (child) => { pid = child.pid; end(); },
        attach(child, pty) {
          end();
          const l = log;
          if (pty && l) { relayMaster(pty.master, child.pid!, l, send); return []; }
          // the client's fds are the container's now; with a terminal it relays the master itself
          send({ attached: true, pid: child.pid }, pty ? [pty.master] : []);
          if (pty) fs.closeSync(pty.master);
          if (l) {
            const out = [child.stdout, child.stderr];
            [1, 2].forEach((t, i) => { const to = userFd(t); if (out[i] && to !== undefined) l.copy(i, out[i]!, fdSink(to)); else l.end(i); });
          }
          return []; // drained below, not in runContainer's 2 s: all of it, as fast as the client reads
        },
      }, stage, early);
    } catch (e: any) {
      failed = true;
      status = e.status ?? 125;
      send({ error: errorLine(e), status });
    } finally {
      await log?.finish(!failed);
      ended = true;
      // this process's fds on its namespaces (runContainer took them for exec): the container is gone
      for (const fd of Object.values(state.namespaceFds ?? {})) { try { fs.closeSync(fd); } catch { /* closed */ } }
      state.namespaceFds = undefined;
      state.exitCode = status;
      teardown(state, (w) => send({ warning: `box: warning: ${w}` }));
    }
    send({ exit: status });
  } finally {
    for (const fd of fds) { try { fs.closeSync(fd); } catch { /* closed */ } }
  }
}

/**
 * A logged run with a terminal: the master's output goes into the log and, through a socket
 * pair, to the client, which sends the user's input back the same way (and keeps a copy of
 * the master only to resize it). The socket is ended once the output is all sent.
 */
function relayMaster(masterFd: number, pid: number, log: AttachedLog, send: Send) {
  const [mine, theirs] = streamPair();
  try { send({ attached: true, pid, relayed: true }, [masterFd, theirs]); } finally { closeFd(theirs); }
  const master = new tty.ReadStream(masterFd);
  const sock = new net.Socket({ fd: mine, readable: true, writable: true });
  sock.on('error', () => { /* the client went away: the copy below ends */ });
  sock.on('data', (d: Buffer) => {
    if (!master.write(d)) { sock.pause(); master.once('drain', () => sock.resume()); }
  });
  log.copy(0, master, (d, done) => { sock.write(d, (err) => done(err)); }).then(() => sock.end());
}
