// A created container's life, from box's side (box stays in the host's namespaces):
// stage in a new pid ns → setup handshake ("ready") → [wait for start] → start →
// stdio / pty → wait → exit status. `box run` attaches the user's terminal; the
// supervisor of `run -d` / `create` writes a log instead (lib/container/supervisor.ts).
import { Duplex } from 'node:stream';
import { ChildProcess, StdioOptions } from 'node:child_process';
import { StageConfig } from '../options/types';
import { save, ContainerState } from '../state/store';
import { processStart } from '../util/proc';
import { joinPlan, enter, cgroupStats, cgroupFor } from '../cgroup/manager';
import { hasCgroupNamespace } from '../cgroup/discover';
import * as fs from 'node:fs';
import { spawnStage } from './launch';
import { Channel } from '../inside/protocol';
import { receivePty, Pty } from '../terminal/tty';
import { recvFd } from '../libc/fdpass';
import { exitStatus } from './exit';
import { forwardListener } from '../seccomp/listener';

/** How the container's stdio is wired, and what happens around start. */
export interface IO {
  stdio: StdioOptions;                                   // for the stage: [0, 1, 2]; fd 3 is the channel
  onSpawn?(child: ChildProcess): void;
  attach(child: ChildProcess, pty: Pty | undefined): Promise<void>[]; // relays that end when the container's output does
  beforeStart?(): Promise<void>;                         // `box create`: wait here for `box start`
  onRunning?(): void;
  onFailure?(message: string, status: number): void;
}

export async function runContainer(state: ContainerState, io: IO): Promise<number> {
  const { child, fdSock } = spawnStage('__init', io.stdio, { newPidNs: true });
  try {
    return await run(state, io, child, fdSock);
  } finally {
    fs.closeSync(fdSock);
  }
}

async function run(state: ContainerState, io: IO, child: ChildProcess, fdSock: number): Promise<number> {
  const { spec } = state;
  const cg = cgroupFor(state.id);
  const join = joinPlan(cg, spec.resources);
  const exited = new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(exitStatus(c, s))));
  io.onSpawn?.(child);
  try {
    enter(child.pid!, join.early); // overlaps the stage's Node start-up (see joinPlan)
  } catch { /* the stage died already: its exit status tells */ }
  const chan = new Channel(child.stdio[3] as Duplex);
  const failed = (msg: any, status: number) => {
    const text = msg?.error ?? `container setup failed (stage exited with status ${status})`;
    const code = msg?.status ?? 125;
    io.onFailure?.(text, code);
    return code;
  };

  const cfg: StageConfig = { spec, rootfs: state.rootfs, cgroupProcs: join.late, cgroupns: hasCgroupNamespace(), seccomp: state.seccomp };
  chan.send(cfg);
  // the stage opens the pty inside the container and sends its master before saying ready
  const ready = await chan.next();
  const pty = ready?.ready && ready.pty !== undefined ? receivePty(fdSock, ready.pty) : undefined;
  if (!ready?.ready) return failed(ready, await exited);
  state.pid = child.pid;
  state.pidStart = processStart(child.pid!);
  save(state);

  if (io.beforeStart) {
    // `box create`: held here until `box start` — or until the stage is killed (box rm).
    const how = await Promise.race([io.beforeStart().then(() => 'start'), exited.then(() => 'gone')]);
    if (how === 'gone') return failed({ error: 'the container was removed before it started', status: 137 }, await exited);
  }
  const relays = io.attach(child, pty);
  chan.send({ start: true });
  // Then: the namespaces (exec joins these; this process holds an fd on each while the
  // container lives), and EOF once execve closed the channel.
  for (;;) {
    const msg = await chan.next();
    if (msg === null) break;
    if (msg.seccompListener) {
      const error = forwardListener(fdSock, state.seccomp, child, { id: state.id, status: 'creating' });
      if (error) return failed({ error }, await exited);
      continue;
    }
    if (!msg.namespaces) return failed(msg, await exited);
    state.namespaces = msg.namespaces;
    state.namespaceFds = Object.fromEntries(Object.keys(msg.namespaces).map((n) => [n, recvFd(fdSock)]));
  }
  state.status = 'running';
  state.startedAt = new Date().toISOString();
  save(state);
  io.onRunning?.();

  const status = await exited;
  if (cgroupStats(cg).oomKills > 0) state.oomKilled = true; // Docker's OOMKilled, from the kernel's own count
  // the pty relay ends by itself on EIO once every slave fd inside is closed
  await Promise.race([Promise.all(relays), new Promise((r) => setTimeout(r, 2000))]);
  state.exitCode = status;
  return status;
}
