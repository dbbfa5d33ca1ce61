// The syscall seam: every call whose order containment depends on, made by the mount executor
// (lib/mount), the `__init`/`__exec` stages (lib/inside) and the stage launcher
// (lib/container/launch.ts), goes through `libc` — the kernel calls, and the file operations
// on fds and paths that decide what a container can reach (ns fds, cgroup.procs, the channel).
// `libc` is koffiLibc, today's bindings as they are; unit tests swap in a recording fake
// (useLibc) and run the real executor and stages without root (test/unit/*-order.test.ts).
//
// Why one swappable object, not a parameter: callers keep `libc.mount(...)` (an import line
// changes, no call does), nothing is threaded through a dozen functions, and the object is
// only a table of the functions that already exist: building it declares no koffi function
// and loads no library (declarations stay lazy, core.ts). The kernel state it stands for is
// per process anyway.
import * as fs from 'node:fs';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import * as c from './index';
import * as paths from './paths';
import { openPtyInside, PtyPair } from './pty';
import { sendFd, recvFd, socketPair } from './fdpass';
import { loadSeccomp, setNoNewPrivs } from './seccomp';
import { sealedExecutable, readOnlyClone, execveatFd } from './exe';
import * as proc from './process';
import type { CapSets, Rlimit } from './process';

export interface Libc {
  // namespaces, mounts, the root
  unshare(flags: number): void;
  setns(fd: number, nstype: number, what?: string): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string | null): void;
  umount2(target: string, flags: number): void;
  mountSetattr(fd: number, flags: number, attrSet: number, attrClr?: number, what?: string): void;
  pivotRoot(newRoot: string, putOld: string): void;
  chroot(path: string): void;
  chdir(path: string): void;
  sethostname(name: string): void;
  setdomainname(name: string): void;
  loopbackUp(): void;
  // paths resolved from a directory fd (lib/mount/resolve.ts)
  openat(dirfd: number, path: string, flags: number, mode?: number, what?: string): number;
  openat2(dirfd: number, path: string, flags: number, resolve: number, what?: string): number;
  mkdirat(dirfd: number, name: string, mode: number, what?: string): void;
  readlinkat(dirfd: number, name: string, what?: string): string;
  symlinkat(target: string, dirfd: number, name: string, what?: string): void;
  mknodat(dirfd: number, name: string, mode: number, dev: number, what?: string): void;
  // files, as node:fs does them (errors are Node's, with .code)
  open(path: string, flags: fs.OpenMode, mode?: number): number;
  close(fd: number): void;
  /** Into the whole of `buf`, at `position` or the file's offset. */
  read(fd: number, buf: Buffer, position?: number | null): number;
  write(fd: number, data: Buffer | string, offset?: number): number;
  readFile(path: string): string;
  writeFile(path: string, data: string): void;
  stat(path: string): fs.Stats;
  fstat(fd: number): fs.Stats;
  exists(path: string): boolean;
  readlink(path: string): string;
  mkdir(path: string, mode: number): void;
  chmod(path: string, mode: number): void;
  chown(path: string, uid: number, gid: number): void;
  fchown(fd: number, uid: number, gid: number): void;
  // fds
  dup2(from: number, to: number): number;
  setCloexec(fd: number, on: boolean): void;
  setBlocking(fd: number): void;
  closeRangeCloexec(from: number): void;
  socketPair(): [number, number];
  sendFd(sock: number, fd: number): void;
  /** One fd box queued on the socket before saying so (a pooled stage's stdio). */
  recvFd(sock: number): number;
  // session and terminal
  setsid(): number;
  setControllingTty(fd: number): void;
  openPtyInside(): PtyPair;
  // credentials and confinement (all per thread)
  prctl(option: number, arg?: number, arg2?: number): number;
  limitCapabilities(keep: Set<number>, lastCap: number, opts?: { boundingOnly?: boolean }): void;
  setIds(uid: number, gid: number, groups: number[]): void;
  /** The calling thread's capability sets, as masks; capSet sets all three (OCI mode's five sets, lib/inside/process.ts). */
  capGet(): CapSets;
  capSet(sets: CapSets): void;
  /** Resource limits of this process (prlimit64 on itself); `what` names the limit in errors. */
  getrlimit(resource: number, what?: string): Rlimit;
  setrlimit(resource: number, soft: bigint, hard: bigint, what?: string): void;
  /** umask(2): returns the previous mask. */
  umask(mask: number): number;
  setNoNewPrivs(): void;
  loadSeccomp(program: Buffer, flags: number): number;
  joinNewSessionKeyring(): void;
  resetSignals(): void;
  // executables and processes
  readOnlyClone(file: string): number | undefined;
  sealedExecutable(name: string, source: Buffer | string): number;
  execve(file: string, argv: string[], env: string[]): never;
  execveatFd(fd: number, argv: string[], env: string[], what: string): never;
  spawn(file: string, args: string[], opts: SpawnOptions): ChildProcess;
  /** process.exit: Node's teardown runs. */
  exit(status: number): never;
  /** _exit: none of it does. */
  exitNow(status: number): never;
}

/** The real thing: the koffi bindings beside this file and node:fs, unchanged. */
export const koffiLibc: Libc = {
  unshare: c.unshare, setns: c.setns, mount: c.mount, umount2: c.umount2, mountSetattr: paths.mountSetattr,
  pivotRoot: c.pivotRoot, chroot: c.chroot, chdir: c.chdir, sethostname: c.sethostname, setdomainname: proc.setdomainname, loopbackUp: c.loopbackUp,
  openat: paths.openat, openat2: paths.openat2, mkdirat: paths.mkdirat, readlinkat: paths.readlinkat,
  symlinkat: paths.symlinkat, mknodat: paths.mknodat,
  open: (p, flags, mode) => fs.openSync(p, flags, mode),
  close: (fd) => fs.closeSync(fd),
  read: (fd, buf, position = null) => fs.readSync(fd, buf, 0, buf.length, position),
  write: (fd, data, offset = 0) => (typeof data === 'string' ? fs.writeSync(fd, data) : fs.writeSync(fd, data, offset)),
  readFile: (p) => fs.readFileSync(p, 'utf8'),
  writeFile: (p, data) => fs.writeFileSync(p, data),
  stat: (p) => fs.statSync(p),
  fstat: (fd) => fs.fstatSync(fd),
  exists: (p) => fs.existsSync(p),
  readlink: (p) => fs.readlinkSync(p),
  mkdir: (p, mode) => fs.mkdirSync(p, mode),
  chmod: (p, mode) => fs.chmodSync(p, mode),
  chown: (p, uid, gid) => fs.chownSync(p, uid, gid),
  fchown: (fd, uid, gid) => fs.fchownSync(fd, uid, gid),
  dup2: c.dup2, setCloexec: c.setCloexec, setBlocking: c.setBlocking, closeRangeCloexec: c.closeRangeCloexec,
  socketPair, sendFd: (sock, fd) => sendFd(sock, fd), recvFd,
  setsid: c.setsid, setControllingTty: c.setControllingTty, openPtyInside,
  prctl: c.prctl, limitCapabilities: c.limitCapabilities, setIds: c.setIds, setNoNewPrivs, loadSeccomp,
  capGet: proc.capGet, capSet: proc.capSet, getrlimit: proc.getrlimit, setrlimit: proc.setrlimit, umask: (m) => Number(c.umask(m)),
  joinNewSessionKeyring: c.joinNewSessionKeyring, resetSignals: c.resetSignals,
  readOnlyClone, sealedExecutable, execve: c.execve, execveatFd,
  spawn: (file, args, opts) => require('node:child_process').spawn(file, args, opts), // required when used: the __init stage never spawns, and child_process brings net and streams (~8 ms)
  exit: (status) => process.exit(status),
  exitNow: c.exitNow,
};

/** The implementation in use. A live binding: importers see a swap at their next call. */
export let libc: Libc = koffiLibc;

/** Use `next` from now on (a test's fake); returns the one it replaces, to put back. */
export function useLibc(next: Libc): Libc {
  const prev = libc;
  libc = next;
  return prev;
}

/** close(2) for fds whose close cannot matter (O_PATH fds of the resolver): errors ignored. */
export function closeFd(fd: number) {
  try { libc.close(fd); } catch { /* already closed */ }
}
