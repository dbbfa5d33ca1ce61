// pidfds (Linux 5.3): a file descriptor naming one process, never a later one that reuses
// its pid. Through syscall(): glibc wraps these only from 2.36 (EL 8 has 2.28).
import { check, syscall, sys } from './core';

/** pidfd_open(pid, 0): always close-on-exec. Throws SysError (ESRCH: no such process; ENOSYS: kernel < 5.3). */
export const pidfdOpen = (pid: number): number => check(syscall(sys().pidfd_open, 'int', pid, 'unsigned int', 0), 'pidfd_open', String(pid));

/** pidfd_send_signal(fd, sig, NULL, 0): as kill(2), to the process the fd names. ESRCH once it has exited. */
export const pidfdSendSignal = (fd: number, sig: number): void =>
  void check(syscall(sys().pidfd_send_signal, 'int', fd, 'int', sig, 'void *', null, 'unsigned int', 0), 'pidfd_send_signal', `signal ${sig}`);
