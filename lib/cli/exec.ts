// box exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] CONTAINER COMMAND [ARG...]
// Runs a process in every namespace, the cgroups and the root of a running container.
import * as fs from 'node:fs';
import { Duplex } from 'node:stream';
import { parseCommand } from '../spec/flags';
import { find, ContainerState } from '../state/store';
import { BoxError } from '../libc/errors';
import { resolveUser } from '../spec/user';
import { spawnInPidNsOf } from '../process/launch';
import { Channel } from '../process/channel';
import { openContainerPty, relayPty } from '../process/tty';
import { stdioModes, relayStdio } from '../process/stdio';
import { exitStatus } from '../process/exit';
import { ExecConfig } from '../stage/exec';
import { PROCS } from '../cgroup/files';
import { running } from './running';

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
  const user = v.user ? resolveUser(v.user, `/proc/${s.pid}/root`) : { ...s.spec.user, home: '/' };
  const env = [...s.spec.env.filter((e) => !(v.env ?? []).some((x: string) => x.split('=')[0] === e.split('=')[0])), ...(v.env ?? [])];
  const cfg: ExecConfig = {
    pid: s.pid!, detach: !!v.detach,
    cgroupProcs: s.cgroups.map((d) => `${d}/${PROCS}`),
    stage: {
      spec: { ...s.spec, command, env, workdir: v.workdir ?? s.spec.workdir, tty: !!v.tty, stdin: !!v.interactive, init: false, user: { uid: user.uid, gid: user.gid, groups: user.groups } },
      rootfs: s.rootfs, cgroupProcs: [], cgroupns: false,
    },
  };
  return runExec(s, cfg, !!v.tty, !!v.interactive, !!v.detach);
}

async function runExec(s: ContainerState, cfg: ExecConfig, tty: boolean, stdin: boolean, detach: boolean): Promise<number> {
  const child = spawnInPidNsOf(s.pid!, '__exec', [...(stdioModes(tty, stdin, detach) as any[]), 'pipe']);
  const exited = new Promise<number>((r) => child.on('exit', (c, sig) => r(exitStatus(c, sig))));
  const forward = (sig: NodeJS.Signals) => { try { process.kill(child.pid!, sig); } catch { /* gone */ } };
  for (const sig of FORWARDED) process.on(sig, forward);
  try {
    const chan = new Channel(child.stdio[3] as Duplex);
    chan.send(cfg);
    const ready = await chan.next();
    if (!ready?.ready) return failed(ready, await exited);
    let relays: Promise<void>[] = [];
    let pty;
    if (tty && !detach) {
      pty = openContainerPty(s.pid!);
      relays = [relayPty(pty, stdin)];
    } else if (!detach) {
      relays = relayStdio(child);
    }
    chan.send({ start: true, pty: pty?.index });
    const started = await chan.next();
    if (started !== null) return failed(started, await exited);
    if (detach) { child.unref(); return 0; }
    const status = await exited;
    await Promise.race([Promise.all(relays), new Promise((r) => setTimeout(r, 2000))]);
    if (pty) try { fs.closeSync(pty.master); } catch { /* the relay closed it */ }
    return status;
  } finally {
    for (const sig of FORWARDED) process.off(sig, forward);
  }
}

function failed(msg: any, status: number): number {
  process.stderr.write(`box: ${msg?.error ?? `exec failed (stage exited with status ${status})`}\n`);
  return msg?.status ?? 125;
}
