// The host-side answer to a container's sysinfo(2): box's sysinfo filter
// (lib/seccomp/sysinfo-filter.ts) turns the call into a seccomp user notification on a
// listener fd; this handler, in a long-lived host process, receives it, computes the
// container's figures (sysinfo.ts) and writes `struct sysinfo` into the caller's memory,
// then lets the call return 0. One handler serves any number of listeners (one per
// container) with one outstanding poll on one libuv pool thread (lib/libc/seccomp-notify.ts).
//
// Containment — this runs as root on the host and writes into another process's memory on
// that process's request:
// - The only write is sizeof(struct sysinfo) for the caller's ABI (112 or 64 bytes) of
//   figures computed here, at the pointer in the notification's first argument, into the
//   memory of the notification's own pid. Nothing the caller says is a path or a length.
// - The pid may be reused: /proc/<pid>/mem is opened first, then the notification id is
//   checked (SECCOMP_IOCTL_NOTIF_ID_VALID, seccomp_unotify(2)'s TOCTOU rule): still valid
//   means the caller was alive and blocked in its call when the fd was opened, so the fd is
//   its memory (the fd pins that address space; a later pid reuse cannot redirect it). The id
//   is checked again right before the write and before the response.
// - /proc/<pid>/mem writes as ptrace does (FOLL_FORCE): a pointer into the caller's own
//   read-only private mapping is written (copy-on-write, the caller's own pages only) where the
//   kernel's sysinfo would have returned EFAULT. A shared read-only mapping refuses the write
//   (no file is ever changed); an unmapped pointer fails and the caller gets EFAULT.
// - The caller's cgroup files are read through caller.ts, which bounds the work of one
//   answer (≤ 4096 tasks, ≤ 256 cgroups) and never leaves the hierarchy's mount.
// - Fairness: each poll round answers at most one notification per listener, so a container
//   that calls sysinfo in a loop from many threads gets its turn like every other container,
//   not the whole handler.
// - A caller not visible from here (pid 0) or not in a container's cgroup: the kernel's own
//   answer (CONTINUE), or the host's figures.
//
// When nobody answers (measured in test 41, kernel 6.18): with the listener's last fd closed
// (the handler's process died and nobody else holds a copy), every sysinfo in the container
// fails at once with ENOSYS — the pending ones too, even one the dead handler had received —
// and for good: a filter's listener cannot be replaced. (glibc's sysconf(_SC_PHYS_PAGES)
// ignores sysinfo's error and reads an unfilled struct.) While another process holds a copy
// and nobody reads it, callers wait in sysinfo (killable) until a reader comes; a call the
// dead handler had received but not answered then waits until it is killed.
import * as fs from 'node:fs';
import {
  recvNotification, notificationValid, sendResponse, openProcessMemory, writeProcessMemory,
  eventFd, wake, drain, pollAsync, Notification, USER_NOTIF_FLAG_CONTINUE,
} from '../libc/seccomp-notify';
import { sysinfoNumbers } from '../seccomp/sysinfo-filter';
import { sysinfoFor, encodeSysinfo, SysinfoAbi } from './sysinfo';
import { Budget, SYSINFO_BUDGET } from './budget';

const EFAULT = 14, ENOSYS = 38;

export type Outcome = 'answered' | 'efault' | 'continued' | 'gone';

/** Which struct layout a notified call wants, or undefined when the call is not sysinfo. */
export function sysinfoAbi(arch: number, nr: number, machine = process.arch): SysinfoAbi | undefined {
  const e = sysinfoNumbers(machine).find((x) => x.audit === arch >>> 0 && x.nr >>> 0 === nr >>> 0);
  if (!e) return undefined;
  return e.arch === 'SCMP_ARCH_X86' || e.arch === 'SCMP_ARCH_ARM' ? '32' : '64';
}

/** Let the kernel run the call (5.5+); on 5.0–5.4 that flag is EINVAL, and the call gets ENOSYS instead. */
function letThrough(fd: number, id: bigint) {
  if (sendResponse(fd, id, { flags: USER_NOTIF_FLAG_CONTINUE }) !== 0) sendResponse(fd, id, { error: ENOSYS });
}

/** Answer one notification (synchronous; the caller waits in its call until the response). */
export function answer(fd: number, n: Notification): Outcome {
  const abi = sysinfoAbi(n.arch, n.nr);
  if (!abi || n.pid === 0) { letThrough(fd, n.id); return 'continued'; }
  const mem = openProcessMemory(n.pid);
  try {
    if (!notificationValid(fd, n.id)) return 'gone'; // after the open: `mem` is the caller's, or there is nobody to answer
    if (mem < 0) { letThrough(fd, n.id); return 'continued'; }
    const bytes = encodeSysinfo(sysinfoFor(n.pid), abi);
    const ptr = abi === '32' ? BigInt.asUintN(32, n.args[0]) : n.args[0];
    // ptr ≥ 2^63 is not an offset pwrite takes (nor a user address)
    const ok = ptr !== 0n && ptr < 1n << 63n && notificationValid(fd, n.id) && writeProcessMemory(mem, ptr, bytes);
    if (!notificationValid(fd, n.id)) return 'gone';
    sendResponse(fd, n.id, ok ? { val: 0 } : { error: EFAULT });
    return ok ? 'answered' : 'efault';
  } finally {
    if (mem >= 0) fs.closeSync(mem);
  }
}

export interface HandlerOptions {
  /** Called once a listener has no tasks left (POLLHUP) and was closed. */
  onGone?: (fd: number) => void;
  log?: (line: string) => void;
  /** Answers per listener per window (budget.ts); tests make it small. */
  budget?: Budget;
}

export class SysinfoHandler {
  readonly counts: Record<Outcome, number> = { answered: 0, efault: 0, continued: 0, gone: 0 };
  private listeners = new Set<number>();
  private dropped: number[] = []; // released while a poll had them: closed once it returned
  private wakeFd = eventFd();
  private polling = false;
  private closing?: () => void;
  private budget: Budget;
  private refill?: NodeJS.Timeout;   // a listener sat a window out: wake when it ends

  constructor(private opts: HandlerOptions = {}) {
    this.budget = opts.budget ?? new Budget(SYSINFO_BUDGET.perWindow, SYSINFO_BUDGET.windowMs);
  }

  /**
   * Serve `fd` (a listener from the sysinfo filter; the handler owns it from now and closes it).
   * Returns its release: stop serving it and close it (its callers get ENOSYS from then on).
   * The release is bound to this listener, not to its number: once the listener hung up and
   * was closed, the number may be another container's, which a late release must not touch.
   */
  add(fd: number): () => void {
    if (this.closing) throw new Error('the sysinfo handler is closed');
    this.listeners.add(fd);
    const token = {};
    this.tokens.set(fd, token);
    if (this.polling) wake(this.wakeFd); else this.round();
    return () => {
      if (this.tokens.get(fd) !== token) return; // gone already (hung up, or the handler closed)
      this.tokens.delete(fd);
      this.listeners.delete(fd);
      // a poll on a pool thread may still have it: closing now would let the number be
      // reused under that poll (and a RECV on a wrong fd blocks); close it once the poll is back
      if (this.polling) { this.dropped.push(fd); wake(this.wakeFd); } else fs.closeSync(fd);
    };
  }

  /**
   * Synchronous: end the outstanding poll now (process.exit's last moment: libuv's exit
   * joins its pool threads, and one parked in poll(-1) would hold the process forever).
   * Nothing is served afterwards; the fds close with the process.
   */
  stopNow() {
    this.closing ??= () => {};
    if (this.polling) wake(this.wakeFd);
  }

  /** Stop serving and close everything. A caller still in sysinfo then gets ENOSYS (no listener left). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closing) return resolve();
      this.closing = resolve;
      if (this.polling) wake(this.wakeFd); else this.finish();
    });
  }

  get size() { return this.listeners.size; }

  private tokens = new Map<number, object>();

  private finish() {
    clearTimeout(this.refill);
    for (const fd of [...this.listeners, ...this.dropped.splice(0)]) fs.closeSync(fd);
    this.listeners.clear();
    this.tokens.clear();
    fs.closeSync(this.wakeFd);
    this.closing?.();
  }

  private round() {
    if (this.closing) return this.finish();
    if (!this.listeners.size) return; // nothing to wait for; add() starts the next round
    this.polling = true;
    // a container over its budget (budget.ts) sits this window out: its callers wait in sysinfo
    const mine = [...this.listeners].filter((fd) => this.budget.allows(String(fd)));
    if (mine.length < this.listeners.size && !this.refill) {
      this.refill = setTimeout(() => { this.refill = undefined; if (this.polling) wake(this.wakeFd); }, this.budget.msLeft());
      this.refill.unref();
    }
    pollAsync([this.wakeFd, ...mine], (ready) => {
      this.polling = false;
      if (this.closing) return this.finish();
      for (const fd of this.dropped.splice(0)) fs.closeSync(fd);
      for (const r of ready ?? []) {
        if (r.fd === this.wakeFd) { if (r.readable) drain(this.wakeFd); continue; }
        if (!this.listeners.has(r.fd)) continue;
        const n = r.readable ? recvNotification(r.fd) : undefined; // does not block after POLLIN (see seccomp-notify.ts)
        if (n) {
          this.budget.spend(String(r.fd));
          try { this.counts[answer(r.fd, n)]++; } catch (e: any) {
            this.opts.log?.(`sysinfo: pid ${n.pid}: ${e.message}`);
            letThrough(r.fd, n.id);
          }
        } else if (r.gone) {
          this.listeners.delete(r.fd);
          this.tokens.delete(r.fd);
          fs.closeSync(r.fd);
          this.opts.onGone?.(r.fd);
        }
      }
      this.round();
    });
  }
}
