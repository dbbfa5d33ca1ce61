// Creating a container: the validated request becomes a record on disk, a writable layer
// over the image, and cgroups with their limits — everything but processes. Used by
// `box run` (attached or -d) and `box create`; nothing here needs the caller to stay.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunRequest } from '../options/run';
import { ContainerSpec, StageConfig } from '../options/types';
import { resolveImage } from '../image/resolve';
import { resolveUser } from '../options/user';
import { ContainerError } from './errors';
import { DEFAULT_PATH } from '../util/defaults';
import { newId, reserveName, save, ContainerState } from '../state/store';
import { processStart } from '../util/proc';
import { containerDir, CONTAINERS } from '../state/paths';
import { collectAndAdopt } from '../supervisor/orphans';
import { markLive } from '../state/live';
import { cgroupManager } from '../cgroup/manager';
import { prepareVolumes } from './volumes';
import { deviceRules } from '../options/devices';
import { mergeLabels } from '../options/run-extra';
import { overlaySupported } from '../image/overlay';
import { randomName } from '../state/names';
import { teardown } from './teardown';
import { writeEtcFiles } from './etc-files';
import { seccompFilter, SeccompFilter } from '../seccomp';
import { ProfileError } from '../seccomp/profile';

/**
 * A stage taken from a pool before the container is created (it is this container's from then
 * on): it joins the cgroups as soon as they exist, while the rest is made. The kernel's wait on
 * a first join (an RCU grace period, 10–15 ms here) then overlaps the creation instead of
 * following it. runContainer awaits `entered` before "start". The stage is alone in its fresh
 * pid namespace and waits for a config; it joins no limit that binds its Node (joinPlan's early
 * part), and the device rules, written right after, are in place long before it runs anything.
 *   `limits`: on cgroup v1, where the stage joins its cgroups only after "start" (joinPlan's
 * ownThread), the limits and device rules are left to runContainer, which writes them right
 * after the stage has its config, while the stage makes the container's mounts, and before
 * "start". On v2 they change the config at times (no device program: no MKNOD), so they stay here.
 */
export interface EarlyJoin { pid: number; entered?: Promise<void>; limits?: () => void }

/**
 * `collectLater`: the caller collects leaks itself, off this path (the supervisor, after each
 * run: collection reads every live container's record, a cost that grows with their number).
 * A --name still held by a dead container is then freed by a collection here, on conflict.
 */
export interface CreateOptions { collectLater?: boolean }

/** Everything but processes: the record, the writable layer, the cgroups with their limits. `warn` gets Docker's warnings (a limit this host cannot apply is dropped). */
export function createContainer(req: RunRequest, verb: string, warn: (w: string) => void = () => {}, early?: EarlyJoin, opts: CreateOptions = {}): ContainerState {
  if (process.geteuid!() !== 0) throw new ContainerError('permission', `box ${verb}: must be run as root (namespaces, mounts and cgroups need it)`);
  const image = resolveImage(req.spec.image);
  const user = resolveUser(req.spec.user ?? (image.config.User || undefined), image.rootfs, req.spec.groupAdd);
  // Docker's rule: the image's Entrypoint, then the user's command or else the image's Cmd
  // (--entrypoint replaces it, and then the image's Cmd is not used either)
  const entrypoint = req.entrypoint !== undefined ? (req.entrypoint ? [req.entrypoint] : []) : image.config.Entrypoint ?? [];
  const cmd = req.spec.command.length ? req.spec.command : req.entrypoint !== undefined ? [] : image.config.Cmd;
  const command = [...entrypoint, ...cmd];
  if (!command.length) throw new ContainerError('invalid', `box ${verb}: no command specified (the image "${req.spec.image}" has no default command)`);

  // before anything is made: a profile that cannot be compiled is the user's error, exit 125
  const filter = (caps: string[]) => compileSeccomp(req, caps, verb);
  const seccomp = filter(req.spec.capabilities);

  if (!opts.collectLater) collectAndAdopt();
  const id = newId();
  const hostname = req.spec.hostname || id.slice(0, 12);
  const spec: ContainerSpec = {
    ...req.spec, id, hostname, command,
    name: req.spec.name || '',
    workdir: req.spec.workdir || image.config.WorkingDir || '/',
    user: { uid: user.uid, gid: user.gid, groups: user.groups, name: user.name },
    env: buildEnv(image.config.Env, hostname, user.home, req.spec.tty, req.spec.env),
    ...mergeLabels((image.config as { Labels?: Record<string, string> | null }).Labels, req.spec.labels),
  };

  const dir = containerDir(id);
  fs.mkdirSync(CONTAINERS, { recursive: true, mode: 0o700 });
  markLive(id, false); // before the directory: a creator killed before its first record leaves something collect() finds
  fs.mkdirSync(dir, { mode: 0o700 });
  try {
    spec.name = claimName(req.spec.name, id, !!opts.collectLater);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // The record names its cgroups before they exist (the paths follow from the id): one write
  // before anything is made, and any teardown or collection then removes what was made (a
  // missing directory is nothing to remove).
  const cg = cgroupManager(id);
  const state: ContainerState = {
    id, name: spec.name, image: image.name, spec, status: 'created', created: new Date().toISOString(),
    owner: { pid: process.pid, start: processStart(process.pid)! }, cgroups: cg.dirs, rootfs: rootfsLayout(dir, image.lower), seccomp,
  };
  save(state);
  try {
    cg.create();
    if (early) early.entered = cg.enterAsync(early.pid, cg.joinPlan(spec.resources, { ownThread: true }).early).catch(() => { /* the stage died: its run tells */ });
    // host dirs and volumes only now, so a refused name leaves none behind (lib/container/volumes.ts)
    prepareVolumes(spec.volumes, image.lower);
    const { rootfs } = state;
    fs.mkdirSync(rootfs.merged);
    if (rootfs.upper) { fs.mkdirSync(rootfs.upper); fs.mkdirSync(rootfs.work!); }
    writeEtcFiles(dir, spec); // /etc/hostname, hosts, resolv.conf: bound over the image's at start
    const limits = () => {
      const applied = cg.apply(spec.devices?.length ? { ...spec.resources, devices: deviceRules(spec) } : spec.resources, { privileged: spec.privileged });
      applied.warnings.forEach(warn);
      if (applied.mknodDropped) {
        spec.capabilities = spec.capabilities.filter((c) => c !== 'MKNOD');
        state.seccomp = filter(spec.capabilities); // Docker's rules depend on the capabilities
        save(state);
      }
    };
    if (early && cg.mode === 'v1') early.limits = limits; // a failure there is runContainer's: its caller tears down
    else limits();
  } catch (e) {
    teardown(state, warn);
    throw e;
  }
  return state;
}

function compileSeccomp(req: RunRequest, caps: string[], verb: string): SeccompFilter | undefined {
  try {
    return seccompFilter(req.seccomp, caps, req.spec.privileged, { noNewPrivileges: req.spec.noNewPrivileges, init: req.spec.init });
  } catch (e: any) {
    if (!(e instanceof ProfileError)) throw e;
    throw new ContainerError('invalid', `box ${verb}: seccomp profile ${req.spec.seccomp === 'builtin' ? '(builtin)' : req.spec.seccomp}: ${e.message}`);
  }
}

/** A name the user chose must be free; a generated one is retried until it is (parallel runs). */
function claimName(wanted: string, id: string, collectFirst: boolean): string {
  if (wanted) {
    try {
      reserveName(wanted, id);
    } catch (e: any) {
      if (!collectFirst) throw new ContainerError('conflict', e.message);
      collectAndAdopt(); // held by a container whose creator died? collection frees it
      return claimName(wanted, id, false);
    }
    return wanted;
  }
  for (let i = 0; ; i++) {
    const name = i === 0 ? randomName(id) : `${randomName(id)}_${id.slice(0, 4 + i)}`;
    try { reserveName(name, id); return name; } catch (e) { if (i > 8) throw e; }
  }
}

function rootfsLayout(dir: string, lower: string[]): StageConfig['rootfs'] {
  const merged = path.join(dir, 'merged');
  if (!overlaySupported()) return { lower, merged, copy: true };
  return { lower, merged, upper: path.join(dir, 'upper'), work: path.join(dir, 'work') };
}

/** Docker's environment: HOSTNAME, TERM with -t, then image env, then the user's; HOME and PATH if unset. */
function buildEnv(imageEnv: string[], hostname: string, home: string, tty: boolean, userEnv: string[]): string[] {
  const env = new Map<string, string>();
  const put = (e: string) => { const i = e.indexOf('='); env.set(e.slice(0, i), e.slice(i + 1)); };
  put(`HOSTNAME=${hostname}`);
  if (tty) put('TERM=xterm');
  imageEnv.forEach(put);
  userEnv.forEach(put);
  if (!env.has('HOME')) put(`HOME=${home}`);
  if (!env.has('PATH')) put(`PATH=${DEFAULT_PATH}`);
  return [...env].map(([k, v]) => `${k}=${v}`);
}
