// Processes by /proc: the one parser of /proc/PID/stat, a process's identity (pid + start
// time: a pid alone can be reused), and signals that reach only the process recorded.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { pidfdOpen, pidfdSendSignal } from '../libc/pidfd';
import { pretendOldKernel } from '../libc/core';
import { SysError } from '../libc/errors';

export interface ProcStat {
  pid: number;
  comm: string;       // the command name, which may hold spaces and parentheses
  state: string;      // R, S, D, Z, X, …
  ppid: number;
  utime: number;      // clock ticks in user mode
  stime: number;      // … and in the kernel
  starttime: string;  // clock ticks after boot; kept as text, as records store it
  exitCode?: number;  // field 52 (Linux 3.5+): a zombie's wait status, readable by anyone allowed to read /proc/PID/stat
}

/**
 * One line of /proc/PID/stat (proc(5)). The comm field is "(name)" and the name is the
 * process's own choice: "a) b (c" is legal, so it ends at the last ")", not the first.
 */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('('), close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const f = text.slice(close + 2).trim().split(' '); // f[0] is field 3 (state)
  if (f.length < 20) return undefined;
  return {
    pid: Number(text.slice(0, open).trim()), comm: text.slice(open + 1, close),
    state: f[0], ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), starttime: f[19],
    exitCode: f.length >= 50 ? Number(f[49]) : undefined,
  };
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A live process's start time: with the pid, it names one process, never a reused pid. Undefined once it has exited (zombie or gone). */
export function processStart(pid: number): string | undefined {
  const st = readStat(pid);
  return !st || st.state === 'Z' || st.state === 'X' ? undefined : st.starttime;
}

/**
 * The exit status of a zombie that is `start`'s process, Docker's way (128+N for signal N),
 * from its wait status in /proc: how a detached container's exit is known when its parent
 * (the supervisor that spawned it) died and another box process records it. Undefined
 * while it runs, and once it is reaped.
 */
export function zombieStatus(pid: number, start: string | undefined): number | undefined {
  const st = readStat(pid);
  if (!st || st.state !== 'Z' || st.starttime !== start || st.exitCode === undefined) return undefined;
  const sig = st.exitCode & 0x7f;
  return sig ? 128 + sig : (st.exitCode >> 8) & 0xff;
}

const ESRCH = 3, EPERM = 1, ENOSYS = 38;

/**
 * Send `sig` to `pid` only if it is still the process that started at `start`, as runc
 * refuses to signal a PID 1 whose start time changed ("to avoid a PID reuse attack").
 * With a pidfd there is no race: the fd is opened first, so it names whatever held the
 * pid then; the start time read afterwards must be the recorded one, and the signal goes
 * through the fd, which never reaches a later process. On a kernel before 5.3 (ENOSYS;
 * EPERM under a seccomp profile that refuses pidfd_open) or with BOX_OLD_KERNEL=1:
 * check, then kill(2) — the pid could be reused in between, a window of microseconds.
 * False when the process has exited or is not that process (or no start was recorded).
 */
export function signalProcess(pid: number, start: string | undefined, sig: number | NodeJS.Signals): boolean {
  if (!pid || pid < 0 || !start) return false;
  const nr = typeof sig === 'number' ? sig : os.constants.signals[sig];
  let fd: number | undefined;
  if (!pretendOldKernel()) {
    try {
      fd = pidfdOpen(pid);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      if (e.errno === ESRCH) return false;
      if (e.errno !== ENOSYS && e.errno !== EPERM) throw e;
    }
  }
  try {
    if (processStart(pid) !== start) return false;
    if (fd === undefined) {
      try { process.kill(pid, nr); } catch (e: any) { if (e.code === 'ESRCH') return false; throw e; }
      return true;
    }
    try { pidfdSendSignal(fd, nr); } catch (e) { if (e instanceof SysError && e.errno === ESRCH) return false; throw e; }
    return true;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
