// The `__init` stage: PID 1 of the container's new pid namespace, started by box with
// fd 3 as its channel and fd 4 as its fd socket. One synchronous thread of work, in order:
//   non-dumpable → config (a pooled stage: then its stdio, on fd 4) → host facts read (cap_last_cap) → cgroup.procs opened → new
//   mount/uts/ipc/net namespaces (a pooled stage: cap_last_cap, the namespaces and loopback,
//   and /proc, /dev, /sys made in them, before its config, while it waits) → with --init, tini into a sealed memfd (its bytes come
//   from ./box, a host path) → mount plan (rootfs, /proc, /dev, pivot_root, masks) →
//   hostname → loopback → pty opened inside, master sent to box → "ready" → wait for
//   "start" → tty/session → join cgroups (late) → cgroup ns → namespaces reported →
//   workdir, stdio, keyring, user, capabilities → execve (of tini with --init, which then
//   runs the command).
// In OCI mode (cfg.oci, lib/oci/create.ts) the same steps run from config.json's data, with
// three differences: `create` exits once the stage is ready, so the stage has no parent-death
// signal and waits for `start` on the exec fifo (a host path, opened first), not on fd 3; it
// joins its cgroups and makes its cgroup namespace before that wait, so the engine sees the
// container's processes in its cgroup from `create` on; and the config's hooks run inside.
import { libc } from '../libc/seam';
import { CLONE, PR } from '../libc/constants';
import { PtyPair } from '../libc/pty';
import { StageConfig, OciStage } from '../options/types';
import { mountPlan } from '../mount/plan';
import { executePlan } from '../mount/execute';
import { prepareKernelFs } from '../mount/prepared';
import { nodeErrorText } from '../libc/errno';
import { readMessage, sendMessage, CHANNEL_FD, FD_SOCKET, POOLED_ARG, closeExeFd } from './protocol';
import { finish, hostLastCap, joinCgroups, reportNamespaces, EARLY_NAMESPACES, StartMessage } from './finish';
import { CommandError } from './command';
import { loadInit } from './tini';
import { runHooks } from '../oci/hooks';

const NS_TYPES: Record<string, number> = { network: CLONE.NEWNET, ipc: CLONE.NEWIPC, uts: CLONE.NEWUTS, cgroup: CLONE.NEWCGROUP };

/** The namespaces of every container but an OCI one (whose config.json lists its own). */
const CONTAINER_NS = CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET;

export function stageInit(): never {
  let gated = false;
  try {
    closeExeFd();
    libc.prctl(PR.SET_DUMPABLE, 0); // no ptrace, no /proc/1/{mem,environ,fd} for anyone but root of the host, until execve
    libc.prctl(PR.SET_PDEATHSIG, 9); // box SIGKILLed → this dies → the kernel kills the whole pid ns
    libc.setBlocking(CHANNEL_FD);
    // A pooled stage (lib/container/pool.ts) waits for a container it does not know yet: what
    // no container decides is done meanwhile, off the run's path — cap_last_cap read on the
    // host, and a cold stage's first namespace step: new mount, uts, ipc and net namespaces
    // (loopback up). Fresh and empty, they hold nothing of anyone's; the stage is alone in its
    // pid namespace, and the host's /sys is still there for the cgroup.procs opened below.
    const pooled = isPooled();
    const early = pooled ? hostLastCap() : undefined;
    // Then, in them, the kernel filesystems every container gets (lib/mount/prepared.ts). The
    // namespaces are the container's from now on: reported now (but the cgroup one, made at
    // finish), off the run's path; box reads them with "ready".
    let prepared: string | undefined;
    if (pooled) { libc.unshare(CONTAINER_NS); libc.loopbackUp(); prepared = prepareKernelFs(); reportNamespaces(EARLY_NAMESPACES); }
    const cfg: StageConfig = readMessage();
    takeStdio(cfg.stdio);
    if (cfg.procView) cfg.procView.fds = cfg.procView.files.map(() => libc.recvFd(FD_SOCKET)); // mounted and closed by the plan's 'procview' op
    const oci = cfg.oci;
    if (oci && pooled) throw new Error('a pooled stage cannot run an OCI container (it has made its namespaces already)');
    // OCI: `create` exits while this waits for `start`; the engine's monitor (a subreaper) becomes the parent
    if (oci) libc.prctl(PR.SET_PDEATHSIG, 0);
    const lastCap = early ?? hostLastCap();
    const cgroupFds = cfg.cgroupProcs.map((p) => libc.open(p, 'w'));
    const gate = oci ? libc.open(oci.gate, 'r+') : -1; // read-write: never blocks here, and `start` can write while we live
    const joined = oci ? openJoined(oci) : [];         // every path opened before the first namespace changes
    for (const [type, fd] of joined) { libc.setns(fd, NS_TYPES[type], type); libc.close(fd); }
    if (!pooled) libc.unshare(oci ? oci.unshare : CONTAINER_NS);
    if (cfg.spec.init) loadInit(); // before pivot_root hides ./box and images/
    // createContainer hooks: in the new mount namespace, before pivot_root, so their paths are
    // the runtime's (the spec's rule) and never a binary the image put in the rootfs
    executePlan(oci ? oci.plan : mountPlan(cfg, prepared), cfg.rootfs.merged, () => {
      if (oci) runHooks(oci.hooks.createContainer, oci.state, 'createContainer');
      // First run only: the stage's V8 code cache, saved while the host's cache dir is still
      // visible, as late as that: it then holds the functions of the mount plan too, which
      // every later stage would otherwise compile again (they ran after the cache was saved).
      (globalThis as any).__boxSaveCodeCache?.();
    });
    if (!oci || cfg.spec.hostname) libc.sethostname(cfg.spec.hostname);
    if (oci?.domainname) libc.setdomainname(oci.domainname);
    if (!pooled && (!oci || oci.unshare & CLONE.NEWNET)) libc.loopbackUp();
    let pty: PtyPair | undefined;
    if (cfg.spec.tty) {
      pty = libc.openPtyInside(); // inside the new root: nothing resolves against the host
      libc.sendFd(FD_SOCKET, pty.master);
      libc.close(pty.master);
      // OCI: the runtime's stdio (the shim's pipe) is not the container's when it has a terminal,
      // and containerd's shim reads it to its end before `start`: let go of it now
      if (oci) for (const n of [0, 1, 2]) libc.dup2(pty.slave, n);
    }
    if (oci) {
      joinCgroups(cfg, cgroupFds);
      if (cfg.cgroupns) libc.unshare(CLONE.NEWCGROUP);
    }
    sendMessage({ ready: true, pty: pty?.index });
    if (oci) {
      waitAtGate(gate);
      gated = true;
      return finish({ ...cfg, cgroupns: false }, pty, [], lastCap);
    }
    const start: StartMessage = readMessage();
    if (!start.start) libc.exit(125);
    // detached: from here on the container outlives its supervisor (a successor adopts it);
    // until now, a supervisor's death ended a stage nobody had started
    if (cfg.detached) libc.prctl(PR.SET_PDEATHSIG, 0);
    return finish(cfg, pty, cgroupFds, lastCap, pooled ? EARLY_NAMESPACES : []);
  } catch (e: any) {
    const status = e instanceof CommandError ? e.status : 125;
    // after the gate nobody reads fd 3 (`create` is gone): the engine shows the container's stderr
    if (gated) { try { libc.write(2, `box: ${e.message}\n`); } catch { /* no stderr */ } }
    else try { sendMessage({ error: e.message, status }); } catch { /* box is gone */ }
    libc.exit(status);
  }
}

/** Started by a StagePool: its argument after the verb (lib/container/pool.ts). */
function isPooled(): boolean {
  return process.argv.slice(3).includes(POOLED_ARG);
}

/**
 * A pooled stage was spawned with /dev/null on 0–2, before anyone knew the container: box
 * queued the container's stdio on fd 4 before the config. Taken before any namespace
 * changes, so they are the same kind of host fds a cold stage is spawned with.
 */
function takeStdio(targets: number[] | undefined) {
  for (const n of targets ?? []) {
    const fd = libc.recvFd(FD_SOCKET);
    libc.dup2(fd, n);
    libc.close(fd);
  }
}

/** The namespaces config.json names by path (a pod's network, ipc, uts), opened before any of ours change. */
function openJoined(oci: OciStage): [string, number][] {
  return oci.join.map((j) => {
    try { return [j.type, libc.open(j.path, 'r')] as [string, number]; } catch (e: any) { throw new Error(nodeErrorText(e, `open ${j.type} namespace`, j.path)); }
  });
}

/** Block until `start` writes to the exec fifo (runc's exec.fifo). */
function waitAtGate(fd: number) {
  const buf = Buffer.alloc(1);
  for (;;) {
    try {
      if (libc.read(fd, buf) === 1) break;
    } catch (e: any) {
      if (e.code !== 'EINTR' && e.code !== 'EAGAIN') throw e;
    }
  }
  libc.close(fd);
}
