// The last steps before the user's program runs, shared by `__init` (and later `__exec`):
// terminal and session, late cgroup join, cgroup namespace, working directory, user,
// capabilities, a clean signal/fd state, execve. With --init, tini is PID 1 (./tini.ts).
import * as fs from 'node:fs';
import * as libc from '../libc';
import { CLONE, PR, MS } from '../libc/constants';
import { StageConfig } from '../spec/types';
import { capNumber } from '../spec/capabilities';
import { resolveCommand } from './command';
import { execInit } from './tini';

export interface StartMessage { start: true; pty?: number }

export function finish(cfg: StageConfig, start: StartMessage, cgroupFds: number[], opts = { console: true }): never {
  const { spec } = cfg;
  libc.setsid(); // our own session: the host terminal's job control cannot reach us
  if (start.pty !== undefined) {
    const slave = `/dev/pts/${start.pty}`;
    const fd = fs.openSync(slave, fs.constants.O_RDWR);
    libc.setControllingTty(fd);
    for (const n of [0, 1, 2]) libc.dup2(fd, n);
    fs.closeSync(fd);
    if (opts.console) libc.mount(slave, '/dev/console', null, MS.BIND);
  }
  // Join late: everything above ran outside the container's CPU quota and memory limit.
  for (const fd of cgroupFds) { fs.writeSync(fd, '0'); fs.closeSync(fd); }
  if (cfg.cgroupns) libc.unshare(CLONE.NEWCGROUP);

  const env = spec.env;
  const cwd = spec.workdir || '/';
  fs.mkdirSync(cwd, { recursive: true, mode: 0o755 }); // Docker creates a missing workdir
  if (spec.user.uid !== 0) fs.chownSync(cwd, spec.user.uid, spec.user.gid);
  libc.chdir(cwd);
  const file = resolveCommand(spec.command[0], env);

  const keep = new Set(spec.capabilities.map(capNumber));
  const lastCap = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  dropPrivileges(spec.user, keep, lastCap);
  prepareExec();
  if (spec.init) execInit(spec.command, env); // tini runs as the command would: same user and capabilities
  libc.execve(file, spec.command, env);
}

export function dropPrivileges(user: StageConfig['spec']['user'], keep: Set<number>, lastCap: number) {
  libc.limitCapabilities(keep, lastCap, { boundingOnly: user.uid !== 0 });
  if (user.uid !== 0 || user.gid !== 0 || user.groups.length) {
    libc.setIds(user.uid, user.gid, user.groups);
    libc.prctl(PR.SET_PDEATHSIG, 9); // a credential change cleared it
  }
}

/** Node leaves signals ignored, fds 0–2 close-on-exec and stray fds open: undo all of it. */
export function prepareExec() {
  libc.resetSignals();
  libc.closeRangeCloexec(3); // includes the channel: its EOF tells box that execve succeeded
  for (const n of [0, 1, 2]) {
    try { libc.setCloexec(n, false); libc.setBlocking(n); } catch { /* not open */ }
  }
}
