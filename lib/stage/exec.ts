// The `__exec` stage (docker exec = setns, as the seed says): started by box inside the
// container's pid namespace, it joins the container's cgroups, gives its main thread its
// own fs_struct (setns into a mount ns is EINVAL while threads share one), enters the
// ipc, uts, net, cgroup and mount namespaces through /proc/PID/ns/*, takes the
// container's root from /proc/PID/root, then finishes like __init and execs.
import * as fs from 'node:fs';
import * as libc from '../libc';
import { CLONE, PR } from '../libc/constants';
import { StageConfig } from '../spec/types';
import { readMessage, sendMessage, CHANNEL_FD } from './channel';
import { finish, StartMessage } from './finish';
import { CommandError } from './command';

export interface ExecConfig { pid: number; cgroupProcs: string[]; detach: boolean; stage: StageConfig }

const NAMESPACES = ['ipc', 'uts', 'net', 'cgroup', 'mnt']; // mnt last: after it, host paths are gone

export function stageExec(): never {
  try {
    libc.prctl(PR.SET_PDEATHSIG, 9);
    libc.setBlocking(CHANNEL_FD);
    const cfg: ExecConfig = readMessage();
    if (cfg.detach) libc.prctl(PR.SET_PDEATHSIG, 0); // exec -d outlives box
    for (const p of cfg.cgroupProcs) fs.writeFileSync(p, '0');
    // Everything is opened before the first setns: afterwards /proc is the container's.
    const nsFds = NAMESPACES.filter((n) => fs.existsSync(`/proc/${cfg.pid}/ns/${n}`)).map((n) => [n, fs.openSync(`/proc/${cfg.pid}/ns/${n}`, 'r')] as const);
    const root = fs.openSync(`/proc/${cfg.pid}/root`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    libc.unshare(CLONE.FS);
    for (const [name, fd] of nsFds) { libc.setns(fd, 0, name); fs.closeSync(fd); }
    libc.fchdir(root);
    libc.chroot('.');
    fs.closeSync(root);
    sendMessage({ ready: true });
    const start: StartMessage = readMessage();
    return finish(cfg.stage, start, [], { console: false });
  } catch (e: any) {
    const status = e instanceof CommandError ? e.status : 125;
    try { sendMessage({ error: e.message, status }); } catch { /* box is gone */ }
    process.exit(status);
  }
}
