// Loading a seccomp filter and no_new_privs. Both act on the calling thread only and are
// inherited across fork and execve: the stage calls them on the thread that then execs the
// container's program (or spawns `exec`'s command). The filter itself is compiled from the
// profile in lib/seccomp.
import { koffi } from './native';
import { func, check, sys } from './core';
import { PR } from './constants';

const SECCOMP_SET_MODE_FILTER = 1, SECCOMP_GET_ACTION_AVAIL = 2;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3;

const syscall = () => func('long syscall(long number, ...)');

let fprog: any;
/**
 * Install `program` (struct sock_filter[]). Without no_new_privs the kernel wants
 * CAP_SYS_ADMIN, so callers install it before dropping capabilities. With
 * SECCOMP_FILTER_FLAG_NEW_LISTENER the result is the notification fd, else 0.
 */
export function loadSeccomp(program: Buffer, flags: number): number {
  const k = koffi();
  fprog ??= k.struct('box_sock_fprog', { len: 'uint16_t', filter: 'void *' });
  const r = syscall()(sys().seccomp, 'unsigned int', SECCOMP_SET_MODE_FILTER, 'unsigned int', flags, 'box_sock_fprog *', { len: program.length / 8, filter: program });
  return check(r, 'seccomp(SECCOMP_SET_MODE_FILTER)');
}

/** Whether this kernel knows a SECCOMP_RET_* action (KILL_PROCESS: 4.14, LOG: 4.14, USER_NOTIF: 5.0). */
export function seccompActionAvailable(action: number): boolean {
  const buf = Buffer.alloc(4);
  buf.writeUInt32LE(action >>> 0);
  return Number(syscall()(sys().seccomp, 'unsigned int', SECCOMP_GET_ACTION_AVAIL, 'unsigned int', 0, 'void *', buf)) === 0;
}

/** No setuid/file-capability gains across execve, for this thread and all it starts. */
export const setNoNewPrivs = () => void check(func('int prctl(int option, ...)')(PR.SET_NO_NEW_PRIVS, 'unsigned long', 1, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0), 'prctl(PR_SET_NO_NEW_PRIVS)');
