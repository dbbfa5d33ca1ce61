// Running another process in a running container (`box exec`): the `__exec` stage joins the
// container's namespaces and cgroups from outside its pid namespace (lib/inside/exec.ts);
// this side hands it the config, relays stdio or the pty the stage opened inside, and
// returns the command's exit status.
import { ContainerState } from '../state/store';
import { PROCS } from '../cgroup/files';
import { managerForDirs } from '../cgroup/manager';
import { ExecConfig } from '../inside/exec';
import { Stage, IO } from './stage';
import { ContainerError } from './errors';
import { isRunning } from './query';
import { sysinfoViewFor } from '../procview/sysinfo-host';

export interface ExecOptions {
  command: string[];
  env?: string[];           // KEY=VALUE, over the container's
  workdir?: string;
  user?: string;            // as typed: looked up in the container's own files
  tty?: boolean;
  stdin?: boolean;
  detach?: boolean;         // return once the command started; it outlives box
}

export async function exec(s: ContainerState, o: ExecOptions, io: IO): Promise<number> {
  if (!isRunning(s)) throw new ContainerError('not-running', `box exec: container ${s.name || s.id} is not running`);
  if (s.paused) throw new ContainerError('state', `box exec: container ${s.name || s.id} is paused, unpause the container before exec`);
  if (o.workdir !== undefined && !o.workdir.startsWith('/')) throw new ContainerError('invalid', `box exec: --workdir "${o.workdir}": the working directory must be an absolute path`);
  if (!o.command.length) throw new ContainerError('invalid', 'box exec: no command given');
  const extra = o.env ?? [];
  const env = [...s.spec.env.filter((e) => !extra.some((x) => x.split('=')[0] === e.split('=')[0])), ...extra];
  const tty = !!o.tty && !o.detach;
  const cfg: ExecConfig = {
    pid: s.pid!, pidStart: s.pidStart ?? '', namespaces: s.namespaces ?? {},
    owner: { ...s.owner, fds: s.namespaceFds ?? {} },
    candidates: `${s.cgroups[0]}/${PROCS}`,
    cgroupProcs: execJoin(s.cgroups),
    detach: !!o.detach,
    user: o.user,
    stage: {
      spec: { ...s.spec, command: o.command, env, workdir: o.workdir ?? s.spec.workdir, tty, stdin: !!o.stdin, init: false },
      rootfs: s.rootfs, cgroupProcs: [], cgroupns: false, seccomp: s.seccomp,
      // this process serves it while the command runs; not for -d, whose command outlives us
      // (its sysinfo would fail with ENOSYS as soon as we exit: the host's figures are better)
      sysinfoView: o.detach ? undefined : sysinfoViewFor(s.spec, s.seccomp),
    },
  };
  // detached: the stage leads its own session, so that the pty can become its controlling terminal
  const stage = new Stage('__exec', 'exec', io.stdio, { detached: true });
  io.onSpawn?.(stage.child);
  try {
    stage.send(cfg);
    await stage.ready();
    const relays = o.detach ? [] : stage.attach(io);
    const started = await stage.next(s.seccomp, { id: s.id, status: 'running' });
    if (!started?.started) throw await stage.failure(started);
    if (o.detach) { stage.child.unref(); return 0; }
    const status = await stage.exited;
    await Stage.drain(relays);
    return status;
  } finally {
    stage.close();
  }
}

/**
 * What the exec stage writes "0" to before it spawns the command: on v1 each hierarchy's
 * `tasks`, moving the stage's main thread alone — the thread that forks the command, which
 * inherits its cgroups — without the kernel's RCU wait of a whole-process move (joinPlan,
 * ownThread); on v2 cgroup.procs.
 */
function execJoin(dirs: string[]): string[] {
  const { early, late } = managerForDirs(dirs).joinPlan({}, { ownThread: true });
  return [...early, ...late];
}
