// SCMP_ACT_NOTIFY: the filter's listener fd goes to a seccomp agent, a process of the
// user's that answers the notified calls. The stage (inside the container) passes the fd to
// box, and box — on the host, where the profile's listenerPath means what the user meant —
// connects to the agent and sends it with the OCI runtime spec's container process state
// (`fds: ["seccompFd"]`, the profile's listenerMetadata).
import * as fs from 'node:fs';
import { ChildProcess } from 'node:child_process';
import { connectUnix, sendFd, recvFd } from '../libc/fdpass';
import { SeccompFilter } from '.';

export function sendToAgent(listener: NonNullable<SeccompFilter['listener']>, fd: number, c: { id: string; pid: number; status: string }) {
  const state = { ociVersion: '1.2.0', id: c.id, status: c.status, pid: c.pid, bundle: '', annotations: {} };
  const msg = { ociVersion: '1.2.0', fds: ['seccompFd'], pid: c.pid, metadata: listener.metadata ?? '', state };
  const sock = connectUnix(listener.path);
  try {
    sendFd(sock, fd, Buffer.from(JSON.stringify(msg)));
  } finally {
    fs.closeSync(sock);
  }
}

/**
 * The stage said it sent a listener fd on `fdSock`: take it and pass it on (our copy is
 * closed either way). On failure the stage is killed — its notified calls would wait for an
 * agent that never comes — and the error is returned for the caller to report.
 */
export function forwardListener(fdSock: number, filter: SeccompFilter | undefined, stage: ChildProcess, c: { id: string; status: string }): string | undefined {
  let fd = -1;
  try {
    fd = recvFd(fdSock);
    if (!filter?.listener) throw new Error('a listener fd came from a container without SCMP_ACT_NOTIFY rules');
    sendToAgent(filter.listener, fd, { ...c, pid: stage.pid! });
    return undefined;
  } catch (e: any) {
    stage.kill('SIGKILL');
    return `seccomp agent ${filter?.listener?.path ?? ''}: ${e.message}`;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
