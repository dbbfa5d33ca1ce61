// The `__init` stage: PID 1 of the container's new pid namespace, started by box with
// fd 3 as its channel and fd 4 as its fd socket. One synchronous thread of work, in order:
//   non-dumpable → config → host facts read (cap_last_cap) → cgroup.procs opened → new
//   mount/uts/ipc/net namespaces → with --init, tini into a sealed memfd (its bytes come
//   from ./box, a host path) → mount plan (rootfs, /proc, /dev, pivot_root, masks) →
//   hostname → loopback → pty opened inside, master sent to box → "ready" → wait for
//   "start" → tty/session → join cgroups (late) → cgroup ns → namespaces reported →
//   workdir, stdio, keyring, user, capabilities → execve (of tini with --init, which then
//   runs the command).
// Setup and start are separate so that create/start, hooks and OCI mode can reuse it.
import { libc } from '../libc/seam';
import { CLONE, PR } from '../libc/constants';
import { PtyPair } from '../libc/pty';
import { StageConfig } from '../options/types';
import { mountPlan } from '../mount/plan';
import { executePlan } from '../mount/execute';
import { readMessage, sendMessage, CHANNEL_FD, FD_SOCKET, closeExeFd } from './protocol';
import { finish, hostLastCap, StartMessage } from './finish';
import { CommandError } from './command';
import { loadInit } from './tini';

export function stageInit(): never {
  try {
    closeExeFd();
    libc.prctl(PR.SET_DUMPABLE, 0); // no ptrace, no /proc/1/{mem,environ,fd} for anyone but root of the host, until execve
    libc.prctl(PR.SET_PDEATHSIG, 9); // box SIGKILLed → this dies → the kernel kills the whole pid ns
    libc.setBlocking(CHANNEL_FD);
    const cfg: StageConfig = readMessage();
    const lastCap = hostLastCap();
    const cgroupFds = cfg.cgroupProcs.map((p) => libc.open(p, 'w'));
    libc.unshare(CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET);
    // First run only: the stage's V8 code cache, saved while the host's cache dir is still visible.
    (globalThis as any).__boxSaveCodeCache?.();
    if (cfg.spec.init) loadInit(); // before pivot_root hides ./box and images/
    executePlan(mountPlan(cfg), cfg.rootfs.merged);
    libc.sethostname(cfg.spec.hostname);
    libc.loopbackUp();
    let pty: PtyPair | undefined;
    if (cfg.spec.tty) {
      pty = libc.openPtyInside(); // inside the new root: nothing resolves against the host
      libc.sendFd(FD_SOCKET, pty.master);
      libc.close(pty.master);
    }
    sendMessage({ ready: true, pty: pty?.index });
    const start: StartMessage = readMessage();
    if (!start.start) libc.exit(125);
    return finish(cfg, pty, cgroupFds, lastCap);
  } catch (e: any) {
    const status = e instanceof CommandError ? e.status : 125;
    try { sendMessage({ error: e.message, status }); } catch { /* box is gone */ }
    libc.exit(status);
  }
}
