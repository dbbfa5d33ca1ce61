// `create`: the container set up and its init blocked before the user's process, then box
// exits. The engine's monitor (conmon, containerd's shim) is a subreaper: the init becomes
// its child, and nothing of box stays resident. Steps: config.json checked and translated →
// state dir + exec fifo → cgroups with their limits → the `__init` stage spawned in a new
// (or the named) pid namespace, stdio untouched → its setup → "ready" (with the pty master it
// opened inside, passed on to --console-socket) → namespaces recorded → createRuntime and
// prestart hooks → state.json and --pid-file → exit 0. Any failure undoes all of it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Socket } from 'node:net';
import { StageConfig } from '../options/types';
import { Stage } from '../container/stage';
import { cgroupManagerAt, CgroupManager } from '../cgroup/manager';
import { processStart, signalProcess } from '../util/proc';
import { writeFileAtomic } from '../util/atomic';
import { mkfifo, setWinsize } from '../libc';
import { connectUnix, sendFd } from '../libc/fdpass';
import { NAMESPACES } from '../inside/finish';
import { loadBundle } from './config';
import { ociMountPlan, cgroupMountDirs } from './mounts';
import { runHooks } from './hooks';
import { OciStore, OciRecord, stateJson } from './state';
import { OciError } from './errors';

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
}

export async function ociCreate(store: OciStore, id: string, o: CreateOptions, warn: (w: string) => void): Promise<void> {
  OciStore.checkId(id);
  if (process.geteuid!() !== 0) throw new OciError('box create: must be run as root (namespaces, mounts and cgroups need it)');
  const b = loadBundle(o.bundle || process.cwd(), id, { noPivot: o.noPivot });
  b.warnings.forEach(warn);
  if (b.spec.tty && !o.consoleSocket) throw new OciError('config.json: process.terminal is true: --console-socket is required');
  if (!b.spec.tty && o.consoleSocket) throw new OciError('--console-socket given but config.json\'s process.terminal is false');

  const dir = store.claim(id);
  let cg: CgroupManager | undefined;
  let stage: Stage | undefined;
  try {
    mkfifo(store.fifo(id), 0o600);
    cg = cgroupManagerAt(b.cgroupPath, undefined, { keepParent: true });
    // saved before anything is made: a create killed from here on leaves a record that
    // `delete --force` (what engines run after a failed create) cleans up, cgroup included
    const record: OciRecord = {
      id, pid: 0, pidStart: '', bundle: b.bundle, rootfs: b.rootfs, created: new Date().toISOString(), annotations: b.annotations,
      cgroupPath: b.cgroupPath, namespaces: {}, hooks: { poststart: b.hooks.poststart, poststop: b.hooks.poststop },
      exec: { seccomp: b.seccomp, noNewPrivileges: b.spec.noNewPrivileges, capabilities: b.spec.capabilities, process: b.process },
      ownsCgroup: true,
    };
    store.save(record);
    cg.create();
    // no device list in config.json (or "allow all"): box writes no device rules, as the spec's default
    const applied = cg.apply(b.resources, { privileged: !b.resources.devices });
    applied.warnings.forEach(warn);
    if (applied.mknodDropped) throw new OciError(`cannot restrict devices: ${applied.mknodDropped}`);

    stage = new Stage('__init', 'container setup', ['inherit', 'inherit', 'inherit'], { newPidNs: b.newPidNs, pidNsPath: b.pidNsPath });
    const pid = (record.pid = stage.child.pid!);
    const join = cg.joinPlan(b.resources);
    const creating = JSON.stringify(stateJson(store, record, 'creating'));
    const cfg: StageConfig = {
      spec: b.spec, rootfs: { lower: [], merged: b.rootfs }, cgroupProcs: [...join.early, ...join.late], cgroupns: b.newCgroupNs, seccomp: b.seccomp,
      oci: {
        plan: ociMountPlan(b.config, b.rootfs, { bundle: b.bundle, noPivot: o.noPivot, ...cgroupMountDirs(cg, b.cgroupPath) }),
        gate: store.fifo(id), unshare: b.unshare, join: b.join, process: { ...b.process, noNewKeyring: o.noNewKeyring },
        domainname: b.domainname, hooks: { createContainer: b.hooks.createContainer, startContainer: b.hooks.startContainer }, state: creating,
      },
    };
    stage.send(cfg);
    await stage.ready();
    record.pidStart = processStart(pid) ?? '';
    record.namespaces = namespaceInodes(pid);
    store.save(record);
    if (stage.pty) {
      const size = b.config.process.consoleSize;
      if (size?.height && size?.width) setWinsize(stage.pty.master, size.height, size.width);
      sendToConsoleSocket(o.consoleSocket!, stage.pty.master, stage.pty.index);
    }
    runHooks([...b.hooks.createRuntime, ...b.hooks.prestart], creating, 'prestart');
    if (o.pidFile) writeFileAtomic(path.resolve(o.pidFile), String(pid), 0o644);
    // let go: the stage waits at the gate; its parent is about to be the engine's monitor
    stage.child.unref();
    (stage.child.stdio[3] as Socket).destroy();
  } catch (e) {
    if (stage?.child.pid) signalProcess(stage.child.pid, processStart(stage.child.pid), 'SIGKILL');
    if (stage) await stage.exited;
    try { cg?.destroy(); } catch (err: any) { warn(err.message); }
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    stage?.close();
  }
}

/** The inode of each namespace the init is in: `exec` joins exactly these, checked again then. */
function namespaceInodes(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of NAMESPACES) try { out[n] = fs.statSync(`/proc/${pid}/ns/${n}`).ino; } catch { /* no cgroup ns on this kernel */ }
  return out;
}

/** The pty master, allocated inside the container, to the engine's socket (SCM_RIGHTS), as runc sends it. */
export function sendToConsoleSocket(socketPath: string, master: number, index: number) {
  let sock: number;
  try {
    sock = connectUnix(socketPath);
  } catch (e: any) {
    throw new OciError(`--console-socket ${socketPath}: ${e.message}`);
  }
  try {
    sendFd(sock, master, Buffer.from(`/dev/pts/${index}`));
  } finally {
    fs.closeSync(sock);
  }
}
