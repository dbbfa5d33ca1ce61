// box run [OPTIONS] IMAGE [COMMAND [ARG...]]
// The parent's side of a container's life, which stays in the host's namespaces:
// validate → record → cgroups → stage in a new pid ns → setup handshake → start →
// relay stdio / pty, forward signals → wait → tear down.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duplex } from 'node:stream';
import { parseRun } from '../spec/run';
import { ContainerSpec, StageConfig } from '../spec/types';
import { resolveImage } from '../image/resolve';
import { resolveUser } from '../spec/user';
import { BoxError } from '../libc/errors';
import { newId, reserveName, save, removeRecord, processStart, ContainerState } from '../state/store';
import { containerDir, CONTAINERS } from '../state/paths';
import { collect } from '../state/collect';
import { createCgroups, destroyCgroups, killAll, applyResources, joinPlan, enter, cgroupStats, Cgroup } from '../cgroup/manager';
import { hasCgroupNamespace } from '../cgroup/discover';
import { spawnInNewPidNs } from '../process/launch';
import { Channel } from '../process/channel';
import { openContainerPty, relayPty } from '../process/tty';
import { exitStatus } from '../process/exit';
import { overlaySupported } from '../image/overlay';
import { MKNOD_DROPPED } from '../cgroup/v2';
import { randomName } from '../state/names';

export const RUN_USAGE = `Usage:  box run [OPTIONS] IMAGE [COMMAND] [ARG...]

Create and run a new container from an image (busybox, a rootfs directory or tarball).

Options:
  -d, --detach            (not yet supported)
  -e, --env list          Set environment variables
      --env-file list     Read in a file of environment variables
  -h, --hostname string   Container host name (default: the short id)
      --init              Run an init inside the container that forwards signals and reaps processes
  -i, --interactive       Keep STDIN open
      --name string       Assign a name to the container
      --no-pivot          Use MS_MOVE + chroot instead of pivot_root
      --privileged        All capabilities, no masked or read-only /proc paths
      --read-only         Mount the container's root filesystem as read only
      --rm                Automatically remove the container when it exits
      --tmpfs list        Mount a tmpfs directory (PATH[:OPTIONS])
  -t, --tty               Allocate a pseudo-TTY
  -u, --user string       Username or UID (format: <name|uid>[:<group|gid>])
  -v, --volume list       Bind mount a volume (HOST:CONTAINER[:ro])
  -w, --workdir string    Working directory inside the container
      --cap-add list      Add Linux capabilities
      --cap-drop list     Drop Linux capabilities
      --cpus decimal      Number of CPUs
      --cpu-period int    Limit CPU CFS (Completely Fair Scheduler) period
      --cpu-quota int     Limit CPU CFS (Completely Fair Scheduler) quota
  -c, --cpu-shares int    CPU shares (relative weight)
      --cpuset-cpus string  CPUs in which to allow execution (0-3, 0,1)
      --cpuset-mems string  MEMs in which to allow execution (0-3, 0,1)
  -m, --memory bytes      Memory limit
      --memory-reservation bytes  Memory soft limit
      --memory-swap bytes Swap limit equal to memory plus swap: '-1' to enable unlimited swap
      --pids-limit int    Tune container pids limit (set -1 for unlimited)
`;

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

export async function run(args: string[]): Promise<number> {
  const req = parseRun(args);
  if (req.help) { process.stdout.write(RUN_USAGE); return 0; }
  if (process.geteuid!() !== 0) throw new BoxError('box run: must be run as root (namespaces, mounts and cgroups need it)');
  const image = resolveImage(req.spec.image);
  const user = resolveUser(req.spec.user ?? (image.config.User || undefined), image.rootfs);
  const command = req.spec.command.length ? req.spec.command : image.config.Cmd;
  if (!command.length) throw new BoxError(`box run: no command specified (the image "${req.spec.image}" has no default command)`);

  collect();
  const id = newId();
  const hostname = req.spec.hostname || id.slice(0, 12);
  const spec: ContainerSpec = {
    ...req.spec, id, hostname, command,
    name: req.spec.name || randomName(id),
    workdir: req.spec.workdir || image.config.WorkingDir || '/',
    user: { uid: user.uid, gid: user.gid, groups: user.groups, name: user.name },
    env: buildEnv(image.config.Env, hostname, user.home, req.spec.tty, req.spec.env),
  };
  for (const v of spec.volumes) fs.mkdirSync(v.source, { recursive: true }); // Docker's -v creates a missing host dir

  const dir = containerDir(id);
  fs.mkdirSync(CONTAINERS, { recursive: true, mode: 0o700 });
  fs.mkdirSync(dir, { mode: 0o700 });
  const state: ContainerState = {
    id, name: spec.name, image: image.name, spec, status: 'created', created: new Date().toISOString(),
    owner: { pid: process.pid, start: processStart(process.pid)! }, cgroups: [],
  };
  try {
    reserveName(spec.name, id);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  save(state);
  try {
    return await runContainer(state, image.rootfs);
  } finally {
    teardown(state);
  }
}

/** Docker's environment: PATH (image), HOSTNAME, TERM with -t, HOME, then image env, then the user's. */
function buildEnv(imageEnv: string[], hostname: string, home: string, tty: boolean, userEnv: string[]): string[] {
  const env = new Map<string, string>();
  const put = (e: string) => { const i = e.indexOf('='); env.set(e.slice(0, i), e.slice(i + 1)); };
  put(`HOSTNAME=${hostname}`);
  if (tty) put('TERM=xterm');
  imageEnv.forEach(put);
  userEnv.forEach(put);
  if (!env.has('HOME')) put(`HOME=${home}`);
  if (!env.has('PATH')) put('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  return [...env].map(([k, v]) => `${k}=${v}`);
}

async function runContainer(state: ContainerState, lower: string): Promise<number> {
  const { spec } = state;
  const dir = containerDir(state.id);
  const rootfs: StageConfig['rootfs'] = { lower: [lower], merged: path.join(dir, 'merged') };
  fs.mkdirSync(rootfs.merged);
  if (overlaySupported()) {
    rootfs.upper = path.join(dir, 'upper');
    rootfs.work = path.join(dir, 'work');
    fs.mkdirSync(rootfs.upper);
    fs.mkdirSync(rootfs.work);
  } else {
    rootfs.copy = true;
  }
  const cg = createCgroups(state.id);
  state.cgroups = cg.dirs;
  save(state);
  for (const w of applyResources(cg, spec.resources, { privileged: spec.privileged })) {
    process.stderr.write(`WARNING: ${w}\n`);
    if (w.startsWith(MKNOD_DROPPED)) spec.capabilities = spec.capabilities.filter((c) => c !== 'MKNOD');
  }

  const ttyOut = process.stdout.isTTY || process.stderr.isTTY;
  const stdinMode = spec.tty ? 'ignore' : spec.stdin ? (process.stdin.isTTY ? 'pipe' : 'inherit') : 'ignore';
  const outMode = spec.tty ? 'ignore' : ttyOut ? 'pipe' : 'inherit';
  const child = spawnInNewPidNs('__init', [stdinMode, outMode, outMode, 'pipe']);
  const join = joinPlan(cg, spec.resources);
  enter(child.pid!, join.early);
  const exited = new Promise<number>((resolve) => child.on('exit', (c, s) => { if (process.env.BOX_DEBUG) process.stderr.write(`box: stage exit code=${c} signal=${s}\n`); resolve(exitStatus(c, s)); }));
  const chan = new Channel(child.stdio[3] as Duplex);
  const forward = (sig: NodeJS.Signals) => { try { process.kill(child.pid!, sig); } catch { /* gone */ } };
  for (const s of FORWARDED) process.on(s, forward);

  const relays: Promise<void>[] = [];
  if (!spec.tty) {
    if (stdinMode === 'pipe') process.stdin.pipe(child.stdin!);
    for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
      if (from) relays.push(new Promise((r) => { from.on('data', (d) => to.write(d)); from.on('close', r); }));
    }
  }

  const cfg: StageConfig = { spec, rootfs, cgroupProcs: join.late, cgroupns: hasCgroupNamespace() };
  chan.send(cfg);
  const ready = await chan.next();
  if (!ready?.ready) return stageFailed(ready, await exited);

  let pty;
  if (spec.tty) {
    pty = openContainerPty(child.pid!);
    relays.push(relayPty(pty, spec.stdin));
  }
  chan.send({ start: true, pty: pty?.index });
  const started = await chan.next();
  if (started !== null) return stageFailed(started, await exited);
  state.status = 'running';
  state.pid = child.pid;
  state.startedAt = new Date().toISOString();
  save(state);

  const status = await exited;
  recordOom(state, cg);
  // the pty relay ends by itself on EIO once every slave fd inside is closed
  await Promise.race([Promise.all(relays), new Promise((r) => setTimeout(r, 2000))]);
  for (const s of FORWARDED) process.off(s, forward);
  state.exitCode = status;
  return status;
}

/** Docker's OOMKilled: the kernel's own count of OOM kills in the container's memory cgroup. */
function recordOom(state: ContainerState, cg: Cgroup) {
  const st = cgroupStats(cg);
  if (st.oomKills > 0) state.oomKilled = true;
}

function stageFailed(msg: any, status: number): number {
  process.stderr.write(`box: ${msg?.error ?? `container setup failed (stage exited with status ${status})`}\n`);
  return msg?.status ?? 125;
}

/** Leave nothing behind: processes, cgroups, the writable layer (unless kept), the record. */
function teardown(state: ContainerState) {
  try {
    killAll(state.cgroups);
    destroyCgroups(state.cgroups);
  } catch (e: any) {
    process.stderr.write(`box: warning: ${e.message}\n`);
  }
  if (state.spec.rm || state.status === 'created') {
    removeRecord(state);
    return;
  }
  fs.rmSync(path.join(containerDir(state.id), 'work'), { recursive: true, force: true });
  state.status = 'exited';
  state.finishedAt = new Date().toISOString();
  state.pid = 0;
  save(state);
}
