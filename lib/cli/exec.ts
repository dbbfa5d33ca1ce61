// box exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] CONTAINER COMMAND [ARG...]
// Runs a process in every namespace, the cgroups and the root of a running container. The
// `__exec` stage does the joining (lib/inside/exec.ts) from outside the container's pid
// namespace; box relays stdio or the pty the stage opened inside, and forwards signals.
import * as fs from 'node:fs';
import { Duplex } from 'node:stream';
import { parseCommand } from '../options/flags';
import { find, ContainerState } from '../state/store';
import { BoxError } from '../libc/errors';
import { spawnStage } from '../container/launch';
import { Channel } from '../inside/protocol';
import { receivePty, relayPty, Pty } from '../terminal/tty';
import { stdioModes, relayStdio } from '../terminal/stdio';
import { exitStatus } from '../container/exit';
import { ExecConfig } from '../inside/exec';
import { PROCS } from '../cgroup/files';
import { running } from './running';
import { forwardListener } from '../seccomp/listener';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

export async function exec(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('exec', args, {
    interactive: { type: 'boolean', short: 'i' }, tty: { type: 'boolean', short: 't' }, detach: { type: 'boolean', short: 'd' },
    env: { type: 'string', short: 'e', multiple: true }, workdir: { type: 'string', short: 'w' }, user: { type: 'string', short: 'u' },
  });
  if (positionals.length < 2) throw new BoxError('box exec: requires at least 2 arguments: CONTAINER COMMAND [ARG...]');
  const [ref, ...command] = positionals;
  const s = find(ref);
  if (!running(s)) throw new BoxError(`box exec: container ${ref} is not running`);
  if (v.workdir !== undefined && !v.workdir.startsWith('/')) throw new BoxError(`box exec: --workdir "${v.workdir}": the working directory must be an absolute path`);
  const env = [...s.spec.env.filter((e) => !(v.env ?? []).some((x: string) => x.split('=')[0] === e.split('=')[0])), ...(v.env ?? [])];
  const cfg: ExecConfig = {
    pid: s.pid!, pidStart: s.pidStart ?? '', namespaces: s.namespaces ?? {},
    owner: { ...s.owner, fds: s.namespaceFds ?? {} },
    candidates: `${s.cgroups[0]}/${PROCS}`,
    cgroupProcs: s.cgroups.map((d) => `${d}/${PROCS}`),
    detach: !!v.detach,
    user: v.user,
    stage: {
      spec: { ...s.spec, command, env, workdir: v.workdir ?? s.spec.workdir, tty: !!v.tty && !v.detach, stdin: !!v.interactive, init: false },
      rootfs: s.rootfs, cgroupProcs: [], cgroupns: false, seccomp: s.seccomp,
    },
  };
  return runExec(cfg, !!v.tty, !!v.interactive, !!v.detach);
}

async function runExec(cfg: ExecConfig, tty: boolean, stdin: boolean, detach: boolean): Promise<number> {
  // detached: the stage leads its own session, so that the pty can become its controlling terminal
  const { child, fdSock } = spawnStage('__exec', stdioModes(tty, stdin, detach), { detached: true });
  const exited = new Promise<number>((r) => child.on('exit', (c, sig) => r(exitStatus(c, sig))));
  const forward = (sig: NodeJS.Signals) => { try { process.kill(child.pid!, sig); } catch { /* gone */ } };
  for (const sig of FORWARDED) process.on(sig, forward);
  let pty: Pty | undefined;
  try {
    const chan = new Channel(child.stdio[3] as Duplex);
    chan.send(cfg);
    const ready = await chan.next();
    if (!ready?.ready) return failed(ready, await exited);
    let relays: Promise<void>[] = [];
    if (ready.pty !== undefined) {
      pty = receivePty(fdSock, ready.pty);
      if (!detach) relays = [relayPty(pty, stdin)];
    } else if (!detach) {
      relays = relayStdio(child);
    }
    let started = await chan.next();
    if (started?.seccompListener) {
      const error = forwardListener(fdSock, cfg.stage.seccomp, child, { id: cfg.stage.spec.id, status: 'running' });
      if (error) return failed({ error }, await exited);
      started = await chan.next();
    }
    if (!started?.started) return failed(started, await exited);
    if (detach) { child.unref(); return 0; }
    const status = await exited;
    await Promise.race([Promise.all(relays), new Promise((r) => setTimeout(r, 2000))]);
    return status;
  } finally {
    for (const sig of FORWARDED) process.off(sig, forward);
    if (pty) try { fs.closeSync(pty.master); } catch { /* the relay closed it */ }
    fs.closeSync(fdSock);
  }
}

function failed(msg: any, status: number): number {
  const text: string = msg?.error ?? `exec failed (stage exited with status ${status})`;
  process.stderr.write(`${text.startsWith('box ') ? '' : 'box: '}${text}\n`);
  return msg?.status ?? 125;
}
