// A created container's life, from box's side (box stays in the host's namespaces):
// stage in a new pid ns → setup handshake ("ready") → [wait for start] → start →
// stdio / pty → wait → exit status. The caller owns the container while this runs: `box
// run` attaches the user's terminal; the supervisor of `run -d` / `create` writes a log
// (lib/container/supervisor.ts); a library caller wires its own IO.
import { ContainerState, patch } from '../state/store';
import { processStart } from '../util/proc';
import { managerForDirs } from '../cgroup/manager';
import { hasCgroupNamespace } from '../cgroup/discover';
import { StageConfig } from '../options/types';
import { Stage, IO } from './stage';
import { ContainerError } from './errors';
import type { EarlyJoin } from './create';
import { etcFilesDir } from './etc-files';
import { sysinfoViewFor } from '../procview/sysinfo-host';
import { mountsProcView } from '../options/proc-view';
import { openView, serveView, releaseView } from '../procview/host';

export interface RunIO extends IO {
  beforeStart?(): Promise<void>;   // `box create`: wait here for `box start`
  onRunning?(): void;
  detached?: boolean;              // the supervisor's: the container must outlive it
}

/**
 * Run the container to its end; its exit status. A setup failure throws ContainerError('setup')
 * with the stage's status. `pooled`: a stage taken from a StagePool (lib/container/pool.ts),
 * already booted in its own fresh pid namespace; it gets io.stdio with its config. `early`: that
 * stage joined the cgroups already, from createContainer on (its EarlyJoin).
 */
export async function runContainer(state: ContainerState, io: RunIO, pooled?: Stage, early?: EarlyJoin): Promise<number> {
  const stage = pooled ?? new Stage('__init', 'container setup', io.stdio, { newPidNs: true });
  try {
    return await run(state, io, stage, early);
  } catch (e) {
    // a stage that never got as far as its cgroups (a pooled one, before its config) would
    // wait for a config forever in a process that lives on (the library): end it
    if (stage.child.exitCode === null && stage.child.signalCode === null) stage.child.kill('SIGKILL');
    throw e;
  } finally {
    releaseView(state.id); // the view's connections end with the container (its readers, if any are left, get ENOTCONN)
    stage.close();
  }
}

async function run(state: ContainerState, io: RunIO, stage: Stage, early: EarlyJoin | undefined): Promise<number> {
  const { spec } = state;
  const cg = managerForDirs(state.cgroups);
  const join = cg.joinPlan(spec.resources, { ownThread: true });
  const { child } = stage;
  io.onSpawn?.(child);

  let stdio: number[] | undefined;
  try {
    stdio = stage.takeStdio(io.stdio); // a pooled stage's stdio: queued before the config that lists it
  } catch (e: any) {
    try { process.kill(child.pid!, 'SIGKILL'); } catch { /* gone */ }
    throw await stage.failure({ error: e.message });
  }
  const cfg: StageConfig = { spec, rootfs: state.rootfs, cgroupProcs: join.late, cgroupns: hasCgroupNamespace(), cgroupfs: { v2: cg.mode === 'v2', dirs: state.cgroups }, seccomp: state.seccomp, stdio, detached: io.detached, etcDir: etcFilesDir(state.id) };
  cfg.sysinfoView = sysinfoViewFor(spec, state.seccomp); // this process serves it (Stage.next)
  // the /proc view: its /dev/fuse fds queued after the stdio, before the config that lists them
  const view = mountsProcView(spec) ? openView(state.id) : undefined;
  if (view) { stage.sendFds(view.fds); cfg.procView = { files: view.files }; }
  stage.send(cfg);
  early?.limits?.(); // v1: the limits createContainer left (EarlyJoin), written while the stage mounts
  // While the stage sets up (after its Node start-up, when cold): joining cgroups from outside
  // (v2; v1 has nothing to join here, see joinPlan), which waits for the kernel (an RCU grace
  // period, 10–15 ms here) on a thread of libuv's pool, and meanwhile the record gets PID 1
  // (the stage now, the command after execve: the same process).
  const entered = (early && early.pid === child.pid ? early.entered : undefined) ?? cg.enterAsync(child.pid!, join.early) // only what binds no limit on box's own Node (see joinPlan)
    .catch(() => { /* the stage died already: its exit status tells */ });
  patch(state, { pid: child.pid, pidStart: processStart(child.pid!) });
  await entered;
  // Without a `box start` to wait for, "start" goes now, behind the config: the stage reads it
  // as soon as it is ready, without a round trip through this process. Its cgroups are joined
  // (above) and its pid recorded, as before the handshake; the stage's own steps are unchanged.
  if (!io.beforeStart) stage.send({ start: true });
  await stage.ready(); // the stage opened the pty inside the container and sent its master first
  if (view) { serveView(state.id, () => child.pid); patch(state, { procView: true }); } // mounted by now (before "ready"): the INITs wait in the kernel

  if (io.beforeStart) {
    // `box create`: held here until `box start` — or until the stage is killed (box rm).
    const how = await Promise.race([io.beforeStart().then(() => 'start'), stage.exited.then(() => 'gone')]);
    if (how === 'gone') throw new ContainerError('state', 'box: the container was removed before it started', 137);
  }
  const relays = stage.attach(io); // what the container wrote meanwhile waits in its pipes or pty
  if (io.beforeStart) stage.send({ start: true });
  // Then: the namespaces (exec joins these; this process holds an fd on each while the
  // container lives), and EOF once execve closed the channel.
  for (;;) {
    const msg = await stage.next(state.seccomp, { id: state.id, status: 'creating' });
    if (msg === null) break;
    if (!msg.namespaces) throw await stage.failure(msg);
    stage.takeNamespaces(msg.namespaces); // a pooled stage sent the others with "ready"
    state.namespaces = { ...stage.namespaces };
    state.namespaceFds = { ...state.namespaceFds, ...stage.takeNamespaceFds() };
  }
  patch(state, { status: 'running', startedAt: new Date().toISOString(), namespaces: state.namespaces, namespaceFds: state.namespaceFds });
  io.onRunning?.();

  const status = await stage.exited;
  if (cg.oomKills() > 0) state.oomKilled = true; // Docker's OOMKilled, from the kernel's own count
  await Stage.drain(relays); // the pty relay ends by itself on EIO once every slave fd inside is closed
  state.exitCode = status;
  return status;
}
