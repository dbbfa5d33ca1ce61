// --init: instead of execve, the stage stays PID 1 as a small init (Docker's --init/tini):
// it starts the command, forwards signals to it, reaps orphans re-parented to PID 1 and
// exits with the command's status, which takes the rest of the pid namespace with it.
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import * as libc from '../libc';
import { ContainerSpec } from '../spec/types';
import { CHANNEL_FD } from './channel';

const FORWARD = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

export function runInit(file: string, spec: ContainerSpec, keep: Set<number>, lastCap: number): never {
  // The init keeps root (to reap and signal) but only the container's capabilities.
  libc.limitCapabilities(keep, lastCap);
  libc.closeRangeCloexec(3);
  process.title = 'box-init';
  const child = spawn(file, spec.command.slice(1), {
    argv0: spec.command[0],
    stdio: 'inherit',
    env: Object.fromEntries(spec.env.map((e) => { const i = e.indexOf('='); return [e.slice(0, i), e.slice(i + 1)]; })),
    uid: spec.user.uid,
    gid: spec.user.gid,
  });
  fs.closeSync(CHANNEL_FD); // like execve's close-on-exec: box sees EOF, the command started
  for (const sig of FORWARD) process.on(sig, () => { try { child.kill(sig); } catch { /* gone */ } });
  // Orphans: any zombie whose parent is us and that is not the command libuv waits for.
  const reap = () => {
    for (const ent of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(ent) || Number(ent) === child.pid) continue;
      try {
        const stat = fs.readFileSync(`/proc/${ent}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (fields[0] === 'Z' && fields[1] === '1') libc.waitpid(Number(ent));
      } catch { /* gone meanwhile */ }
    }
  };
  process.on('SIGCHLD', reap);
  const timer = setInterval(reap, 1000);
  child.on('exit', (code, signal) => {
    clearInterval(timer);
    process.exit(signal ? 128 + (require('node:os').constants.signals[signal] as number) : code ?? 0);
  });
  return undefined as never;
}
