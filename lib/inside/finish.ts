// The last steps before the user's program runs in the `__init` stage: terminal and
// session, late cgroup join, cgroup namespace, the namespaces reported to box, working
// directory, stdio usable by the user, a fresh keyring, user and capabilities, a clean
// signal/fd state, execve. With --init, tini is PID 1 in front of the command (./tini.ts).
// In OCI mode (cfg.oci) config.json's rlimits, umask, oom_score_adj and five capability sets
// are applied too, and noNewKeyring keeps the keyring (./process.ts).
import type { Stats } from 'node:fs';
import { libc } from '../libc/seam';
import { nodeErrorText } from '../libc/errno';
import { CLONE, PR, MS } from '../libc/constants';
import { PtyPair } from '../libc/pty';
import { StageConfig } from '../options/types';
import { capNumber } from '../options/capabilities';
import { resolveCommand, execFailure } from './command';
import { sendMessage, FD_SOCKET } from './protocol';
import { execInit } from './tini';
import { runHooks } from '../oci/hooks';
import { SeccompFilter } from '../seccomp';
import { SECCOMP_FILTER_FLAG_NEW_LISTENER } from '../libc/seccomp';
import { applyProcessLimits, applyCapabilities, applySpecLimits } from './process';
import type { ProcessExtras } from '../options/types';

export interface StartMessage { start: true }
type User = StageConfig['spec']['user'];

/** Namespaces box records at start: `exec` joins these, not whatever the container makes later. */
export const NAMESPACES = ['ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt'] as const;
/** What a pooled stage reports while it waits (lib/inside/init.ts): all but the cgroup namespace, made only once it joined its cgroups. */
export const EARLY_NAMESPACES = NAMESPACES.filter((n) => n !== 'cgroup');

/** `reported`: the namespaces sent already (a pooled stage's EARLY_NAMESPACES): only the rest is reported here. */
export function finish(cfg: StageConfig, pty: PtyPair | undefined, cgroupFds: number[], lastCap: number, reported: readonly string[] = []): never {
  const { spec } = cfg;
  libc.setsid(); // our own session: the host terminal's job control cannot reach us
  if (pty) {
    libc.setControllingTty(pty.slave);
    for (const n of [0, 1, 2]) libc.dup2(pty.slave, n);
    libc.mount(`/proc/self/fd/${pty.slave}`, '/dev/console', null, MS.BIND);
    libc.close(pty.slave);
  }
  joinCgroups(cfg, cgroupFds); // late: everything above ran outside the container's CPU quota and memory limit
  if (cfg.cgroupns) libc.unshare(CLONE.NEWCGROUP);
  if (!cfg.oci) reportNamespaces(NAMESPACES.filter((n) => !reported.includes(n))); // OCI: `create` recorded them from /proc already, and is gone

  enterWorkdir(spec.workdir || '/', spec.user, true);
  const file = resolveCommand(spec.command[0], spec.env);
  const keep = new Set(spec.capabilities.map(capNumber));
  fixStdioOwner(spec.user);
  const oci = cfg.oci?.process; // OCI mode: config.json's rlimits, umask, oom_score_adj, five capability sets, keyring
  if (!oci?.noNewKeyring) libc.joinNewSessionKeyring();
  prepareExec(); // before the filter: a profile then needs to allow fewer of box's own calls
  if (oci) applyProcessLimits(oci); // before the filter and the drop, after box's own set-up (./process.ts)
  else applySpecLimits(spec);      // --oom-score-adj, --ulimit: the same place, the same code
  // An OCI container outlives the `box create` that spawned it (its engine's monitor reaps it): no death signal.
  dropPrivileges(spec.user, keep, lastCap, { deathSignal: !cfg.oci && !cfg.detached, seccomp: cfg.seccomp, sysinfoView: cfg.oci ? undefined : cfg.sysinfoView, noNewPrivileges: spec.noNewPrivileges, process: oci });
  // OCI startContainer hooks: their path resolves in the container, so the image chooses the
  // binary; they run as the container's process would, never with the stage's full privileges
  if (cfg.oci) runHooks(cfg.oci.hooks.startContainer, cfg.oci.state.replace('"status":"creating"', '"status":"created"'), 'startContainer');
  if (spec.init) execInit(spec.command, spec.env); // tini runs as the command would: same user and capabilities
  try {
    return libc.execve(file, spec.command, spec.env);
  } catch (e) {
    throw execFailure(e);
  }
}

/** Write "0" to the cgroup.procs (v1: `tasks`, this thread alone: execve follows) fds opened while the host's /sys was visible. */
export function joinCgroups(cfg: StageConfig, fds: number[]) {
  fds.forEach((fd, i) => {
    // the path is no longer reachable here (after pivot_root): name it from the config
    try { libc.write(fd, '0'); } catch (e: any) { throw new Error(nodeErrorText(e, 'join cgroup', cfg.cgroupProcs[i])); }
    libc.close(fd);
  });
}

/**
 * Tell box which namespaces the container has, before its own code runs: their inode numbers,
 * and an fd on each (sent in the order listed) that box holds while the container lives, so
 * `exec` can join exactly these even if PID 1 makes new ones later.
 */
export function reportNamespaces(which: readonly string[]) {
  const namespaces: Record<string, number> = {};
  for (const n of which) {
    let fd: number;
    try { fd = libc.open(`/proc/self/ns/${n}`, 'r'); } catch { continue; } // a kernel without it (cgroup ns)
    namespaces[n] = libc.fstat(fd).ino;
    libc.sendFd(FD_SOCKET, fd);
    libc.close(fd);
  }
  sendMessage({ namespaces });
}

/** Read the host's cap_last_cap before anything of the container is visible: it decides what is dropped. */
export function hostLastCap(): number {
  const n = Number(libc.readFile('/proc/sys/kernel/cap_last_cap'));
  if (!Number.isInteger(n) || n < 30 || n > 63) throw new Error(`/proc/sys/kernel/cap_last_cap: unexpected value ${n}`);
  return n;
}

/**
 * chdir into the working directory. `run` creates it when missing, as Docker does, and gives
 * a non-root user what it created — never an existing directory (the container's `/`, `/etc`
 * or a host volume). `exec` never creates one. Runs inside the container's root, so paths
 * resolve there.
 */
export function enterWorkdir(dir: string, user: User, create: boolean) {
  try {
    libc.chdir(dir);
    return;
  } catch (e: any) {
    if (!create || e.code !== 'ENOENT') throw e;
  }
  for (const made of mkdirs(dir)) if (user.uid !== 0) libc.chown(made, user.uid, user.gid);
  libc.chdir(dir);
}

/** mkdir -p one component at a time (bounded: fs.mkdirSync's recursion can spin on /proc paths); the dirs made. */
function mkdirs(dir: string): string[] {
  const made: string[] = [];
  let at = '';
  for (const part of dir.split('/').filter(Boolean)) {
    at += `/${part}`;
    try {
      libc.mkdir(at, 0o755);
      made.push(at);
    } catch (e: any) {
      if (e.code !== 'EEXIST') throw e;
    }
  }
  return made;
}

/**
 * A non-root user must be able to reopen its own stdio (`echo hi > /dev/stdout` reopens
 * fd 1 through /proc), as runc's fixStdioPermissions allows: box's pipes, sockets and the
 * pty are given to the user. Regular files (a host file the caller redirected to) and
 * /dev/null are left alone.
 */
export function fixStdioOwner(user: User, fds = [0, 1, 2]) {
  if (user.uid === 0) return;
  for (const fd of fds) {
    let st: Stats;
    try { st = libc.fstat(fd); } catch { continue; }
    const devNull = st.isCharacterDevice() && st.rdev === ((1 << 8) | 3);
    if (devNull || !(st.isFIFO() || st.isSocket() || st.isCharacterDevice())) continue;
    try { libc.fchown(fd, user.uid, user.gid); } catch { /* e.g. EPERM on a file of another owner */ }
  }
}

interface Confinement {
  deathSignal: boolean; seccomp?: SeccompFilter; noNewPrivileges: boolean;
  sysinfoView?: string; // box's sysinfo filter (StageConfig.sysinfoView), loaded right before `seccomp`
  process?: ProcessExtras; // OCI mode: its five capability sets instead of `keep` (./process.ts)
}

/**
 * Capabilities and ids dropped, no_new_privs and the seccomp filter, in runc's order: without
 * no_new_privs the kernel takes a filter only from a thread with CAP_SYS_ADMIN, so it goes in
 * before the drop; with it, after, so that fewer of box's own calls must pass the filter.
 * Everything here is per-thread: the caller's thread is the one that execs (or spawns).
 */
export function dropPrivileges(user: User, keep: Set<number>, lastCap: number, opts: Confinement) {
  if (opts.seccomp && !opts.noNewPrivileges) installSeccomp(opts.seccomp, opts.sysinfoView);
  const changeIds = () => {
    if (user.uid === 0 && user.gid === 0 && !user.groups.length) return;
    libc.setIds(user.uid, user.gid, user.groups);
    if (opts.deathSignal) libc.prctl(PR.SET_PDEATHSIG, 9); // a credential change cleared it
  };
  if (opts.process) {
    applyCapabilities(opts.process.capabilities, lastCap, changeIds);
  } else if (user.uid === 0) {
    // root keeps its capabilities through setresuid(0): ids first, while CAP_SETGID and
    // CAP_SETUID are still there (runc's order), so that --cap-drop ALL can still set its groups
    changeIds();
    libc.limitCapabilities(keep, lastCap, { boundingOnly: false });
  } else {
    libc.limitCapabilities(keep, lastCap, { boundingOnly: true });
    changeIds();
  }
  if (opts.noNewPrivileges) libc.setNoNewPrivs();
  if (opts.seccomp && opts.noNewPrivileges) installSeccomp(opts.seccomp, opts.sysinfoView);
}

/**
 * Load the filter; with SCMP_ACT_NOTIFY rules, hand the listener fd to box, which passes it to
 * the profile's listenerPath. Box's sysinfo filter (`sysinfo`) goes in right before it, at the
 * same point of the privilege drop (it needs what the profile's needs: CAP_SYS_ADMIN, or
 * no_new_privs), so the profile's is the newer: the kernel runs both and the more restrictive
 * action wins, so a profile that denies sysinfo still does (lib/seccomp/sysinfo-filter.ts). Its
 * listener goes to box (lib/container/stage.ts), which answers the container's sysinfo calls;
 * the host never sets both (a second listener in one chain is EBUSY).
 */
function installSeccomp(f: SeccompFilter, sysinfo: string | undefined) {
  if (sysinfo) {
    const l = libc.loadSeccomp(Buffer.from(sysinfo, 'base64'), SECCOMP_FILTER_FLAG_NEW_LISTENER);
    libc.sendFd(FD_SOCKET, l);
    libc.close(l); // box's copy is the only one: when box goes, the container's sysinfo fails (ENOSYS), it never waits
    sendMessage({ sysinfoListener: true });
  }
  const listener = libc.loadSeccomp(Buffer.from(f.program, 'base64'), f.flags | (f.listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0));
  if (!f.listener) return;
  libc.sendFd(FD_SOCKET, listener);
  libc.close(listener);
  sendMessage({ seccompListener: true });
}

/** Node leaves signals ignored, fds 0–2 close-on-exec and stray fds open: undo all of it. */
export function prepareExec() {
  libc.resetSignals();
  libc.closeRangeCloexec(3); // includes the channel: its EOF tells box that execve succeeded
  for (const n of [0, 1, 2]) {
    try { libc.setCloexec(n, false); libc.setBlocking(n); } catch { /* not open */ }
  }
}
