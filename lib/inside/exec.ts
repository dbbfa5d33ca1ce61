// The `__exec` stage (docker exec = setns, as the seed says). It is never visible inside the
// container: it stays in the host's pid namespace, so no container process can ptrace it,
// read its /proc entries or open its executable — its other Node threads keep the host's
// namespaces, root and capabilities, which is why it must stay out of sight. On its main
// thread, in order:
//   non-dumpable → config → host facts (cap_last_cap) → the container's namespace fds, opened
//   from a process whose namespaces are the ones recorded at start → join the cgroups →
//   unshare(CLONE_FS) (setns into a mount ns is EINVAL while threads share fs_struct) →
//   setns ipc, uts, net, cgroup, mnt (the root becomes the container's) → setns pid (for
//   children only) → user looked up, workdir, command resolved, pty opened: all inside →
//   keyring, capabilities, user → spawn the command, which is born inside every namespace
//   with the main thread's credentials → wait for it outside, forward signals, exit with
//   its status.
// After the setns calls only synchronous fs calls are made: libuv's pool threads still
// resolve paths against the host.
import { libc } from '../libc/seam';
import { CLONE, PR } from '../libc/constants';
import { PtyPair } from '../libc/pty';
import { StageConfig, ProcessExtras } from '../options/types';
import { parseUser, readUserDbInside } from '../options/user';
import { capNumber } from '../options/capabilities';
import { exitStatus } from '../container/exit';
import { processStart } from '../util/proc';
import { FORWARDED_SIGNALS } from '../util/signals';
import { readMessage, sendMessage, CHANNEL_FD, FD_SOCKET, closeExeFd } from './protocol';
import { enterWorkdir, fixStdioOwner, dropPrivileges, hostLastCap, NAMESPACES } from './finish';
import { resolveCommand, spawnFailure, CommandError } from './command';
import { applyProcessLimits, setOomScoreAdj } from './process';
import { reattachViews } from './view-reattach';

export interface ExecConfig {
  pid: number;                          // the container's PID 1 (host view) …
  pidStart: string;                     // … and its start time: never a reused pid
  namespaces: Record<string, number>;   // inode numbers recorded when the container started
  owner: { pid: number; start: string; fds: Record<string, number> }; // the box process holding fds on them
  candidates: string;                   // a cgroup.procs file: other processes to take them from
  cgroupProcs: string[];
  detach: boolean;
  user?: string;                        // -u as typed: looked up in the container's own files
  stage: StageConfig;
  process?: ProcessExtras;              // OCI `exec --process`: its rlimits, umask, oom_score_adj, capability sets, keyring
  view?: { files: { kind: string; target: string }[] }; // no command: the /proc view's fds (on fd 4) mounted again (view-reattach.ts)
}

// With -t the command shares this stage's session (the pty's session leader is the stage),
// so the terminal's own signals (^C, ^\, ^Z, hangup) reach the command and the stage alike:
// the stage ignores them, and forwards only what can come from box alone.
const TTY_SIGNALS = ['SIGINT', 'SIGQUIT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGHUP'] as const;
const TTY_FORWARD = ['SIGTERM', 'SIGUSR1', 'SIGUSR2'] as const;

export function stageExec(): never | void {
  let pty: PtyPair | undefined;
  try {
    closeExeFd();
    libc.prctl(PR.SET_DUMPABLE, 0);
    libc.prctl(PR.SET_PDEATHSIG, 9);
    libc.setBlocking(CHANNEL_FD);
    const cfg: ExecConfig = readMessage();
    if (cfg.detach) libc.prctl(PR.SET_PDEATHSIG, 0); // exec -d outlives box
    const lastCap = hostLastCap();
    const ns = recordedNamespaces(cfg); // everything is opened before the first setns
    if (cfg.view) return reattachViews(cfg, ns); // the mount namespace only, then exit
    for (const p of cfg.cgroupProcs) libc.writeFile(p, '0');
    if (cfg.process?.oomScoreAdj !== undefined) setOomScoreAdj(cfg.process.oomScoreAdj); // the host's /proc: ours is not in the container's
    libc.unshare(CLONE.FS);
    for (const [name, fd] of ns) if (name !== 'pid') libc.setns(fd, 0, name);
    libc.setns(ns.get('pid')!, CLONE.NEWPID, 'pid');
    for (const fd of ns.values()) libc.close(fd);

    // From here on, paths resolve inside the container's root.
    const spec = cfg.stage.spec;
    const user = cfg.user ? parseUser(cfg.user, readUserDbInside(), 'exec', spec.groupAdd) : spec.user;
    try {
      enterWorkdir(spec.workdir || '/', user, false);
    } catch (e: any) {
      throw new CommandError(`chdir to cwd ("${spec.workdir}"): ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`, 126);
    }
    const file = resolveCommand(spec.command[0], spec.env);
    if (spec.tty) {
      pty = libc.openPtyInside();
      libc.sendFd(FD_SOCKET, pty.master);
      libc.close(pty.master);
      libc.setControllingTty(pty.slave); // box spawned this stage as a session leader
      for (const sig of TTY_SIGNALS) process.on(sig, () => {});
    }
    sendMessage({ ready: true, pty: pty?.index });
    fixStdioOwner(user, pty ? [pty.slave] : [0, 1, 2]);
    if (!cfg.process?.noNewKeyring) libc.joinNewSessionKeyring();
    if (cfg.process) applyProcessLimits({ ...cfg.process, oomScoreAdj: undefined }); // inherited by the command; before the filter and the drop
    // the container's own filter and no_new_privs, as Docker's exec: the command inherits them from this thread
    dropPrivileges(user, new Set(spec.capabilities.map(capNumber)), lastCap, { deathSignal: !cfg.detach, seccomp: cfg.stage.seccomp, sysinfoView: cfg.detach ? undefined : cfg.stage.sysinfoView, noNewPrivileges: spec.noNewPrivileges, process: cfg.process });
    libc.close(FD_SOCKET); // nothing more to pass: the command must not inherit it
    libc.closeRangeCloexec(3); // the command gets its stdio and nothing else of ours
    const child = libc.spawn(file, spec.command.slice(1), {
      argv0: spec.command[0],
      env: Object.fromEntries(spec.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      stdio: pty ? [pty.slave, pty.slave, pty.slave] : 'inherit',
    });
    if (child.pid === undefined) {
      child.on('error', (e: NodeJS.ErrnoException) => fail(spawnFailure(e, file)));
      return;
    }
    if (pty) libc.close(pty.slave);
    sendMessage({ started: true, pid: child.pid }); // the host PID: OCI exec --pid-file names it
    if (cfg.detach) libc.exit(0);
    for (const sig of pty ? TTY_FORWARD : FORWARDED_SIGNALS) process.on(sig, () => { try { child.kill(sig); } catch { /* gone */ } });
    // the command's status is the stage's; _exit, because Node's teardown would only delay box exec
    child.on('exit', (code, signal) => libc.exitNow(exitStatus(code, signal)));
  } catch (e: any) {
    fail(e);
  }
}

function fail(e: any): never {
  const status = e instanceof CommandError ? e.status : 125;
  try { sendMessage({ error: e.message, status }); } catch { /* box is gone */ }
  libc.exit(status);
}

/**
 * Open the container's namespaces exactly as recorded when it started: through the fds its
 * owner (box run or the supervisor) holds, else from PID 1 if it still is that process and
 * has not made new ones (it can, inside a user namespace), else from any process of the
 * container's cgroup that has them. A container must not be able to choose what exec joins;
 * every candidate is checked against the recorded inode numbers.
 */
function recordedNamespaces(cfg: ExecConfig): Map<string, number> {
  const want = NAMESPACES.filter((n) => cfg.namespaces[n] !== undefined);
  if (!want.includes('mnt') || !want.includes('pid')) throw new Error('the container\'s namespaces were not recorded when it started (started by an older box?): restart it');
  const sources: ((n: string) => string)[] = [];
  if (processStart(cfg.owner.pid) === cfg.owner.start) sources.push((n) => `/proc/${cfg.owner.pid}/fd/${cfg.owner.fds[n]}`);
  if (processStart(cfg.pid) === cfg.pidStart) sources.push((n) => `/proc/${cfg.pid}/ns/${n}`);
  try {
    for (const pid of libc.readFile(cfg.candidates).split('\n').filter(Boolean)) sources.push((n) => `/proc/${pid}/ns/${n}`);
  } catch { /* no cgroup to look in */ }
  for (const path of sources) {
    const fds = new Map<string, number>();
    try {
      for (const n of want) {
        const fd = libc.open(path(n), 'r');
        fds.set(n, fd);
        if (libc.fstat(fd).ino !== cfg.namespaces[n]) throw new Error('not the recorded namespace');
      }
      return fds;
    } catch {
      for (const fd of fds.values()) libc.close(fd);
    }
  }
  throw new Error('no process of the container is in the namespaces it started with');
}
