// `exec`: another process in a running container, through box's `__exec` stage, which joins
// the namespaces recorded at create (checked by inode: the container cannot choose what is
// joined) and the cgroups from outside the container's pid namespace, so no Node process is
// ever visible inside. The process comes from --process (an OCI `process` object, as podman
// and docker pass it) or from the inline form (args, --cwd, --env, --user, --tty).
// --detach: box returns once the process started; it is reparented to the engine's monitor.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stage } from '../container/stage';
import { ExecConfig } from '../inside/exec';
import { cgroupManagerAt } from '../cgroup/manager';
import { PROCS } from '../cgroup/files';
import { CAPS } from '../options/capabilities';
import { setWinsize } from '../libc';
import { writeFileAtomic } from '../util/atomic';
import { OciStore, status } from './state';
import { sendToConsoleSocket } from './create';
import { OciError } from './errors';
import { processFields } from './config';

export interface ExecOptions {
  processFile?: string;
  args: string[];
  cwd?: string;
  env: string[];
  user?: string;            // uid[:gid]
  tty: boolean;
  consoleSocket?: string;
  detach: boolean;
  pidFile?: string;
}

export async function ociExec(store: OciStore, id: string, o: ExecOptions): Promise<number> {
  const r = store.load(id);
  const s = status(store, r);
  // created: the init is still box's Node stage, whose threads hold host state: nothing joins it
  if (s !== 'running') throw new OciError(`cannot exec in a ${s} container: ${id}`, 'state');
  const p = processOf(o);
  if (p.terminal && !o.consoleSocket) throw new OciError('exec: process.terminal is true: --console-socket is required');
  const cg = cgroupManagerAt(r.cgroupPath, undefined, { keepParent: true });
  const caps = p.capabilities?.bounding ? capNames(p.capabilities.bounding) : r.exec.capabilities;
  // rlimits, umask, oom_score_adj and the five capability sets: the process's own, else the container's
  const extras = processFields(p, (f, w) => { throw new OciError(`exec: process.${f.replace(/^process\./, '')}: ${w}`); }, []);
  if (!p.capabilities) extras.capabilities = r.exec.process.capabilities;
  const cfg: ExecConfig = {
    pid: r.pid, pidStart: r.pidStart, namespaces: r.namespaces,
    owner: { pid: 0, start: '', fds: {} }, // no box process holds the namespaces: the init (checked) or a cgroup member
    candidates: path.join(cg.dirs[0], PROCS),
    cgroupProcs: cg.dirs.map((d) => path.join(d, PROCS)),
    detach: o.detach,
    process: extras,
    stage: {
      spec: {
        id, name: id, image: r.rootfs, command: p.args, env: p.env ?? [], workdir: p.cwd || '/',
        user: { uid: p.user?.uid ?? 0, gid: p.user?.gid ?? 0, groups: p.user?.additionalGids ?? [] },
        hostname: '', tty: !!p.terminal, stdin: false, rm: false, init: false, readOnly: false, noPivot: false, privileged: false,
        capabilities: caps, seccomp: r.exec.seccomp ? 'config.json' : 'unconfined', noNewPrivileges: p.noNewPrivileges ?? r.exec.noNewPrivileges,
        volumes: [], tmpfs: [], resources: {}, stopSignal: 'SIGTERM', stopTimeout: 10,
      },
      rootfs: { lower: [], merged: r.rootfs }, cgroupProcs: [], cgroupns: false, seccomp: r.exec.seccomp,
    },
  };
  // its own session, so that the pty can become its controlling terminal
  const stage = new Stage('__exec', 'exec', ['inherit', 'inherit', 'inherit'], { detached: true });
  try {
    stage.send(cfg);
    await stage.ready();
    if (stage.pty) {
      if (p.consoleSize?.height && p.consoleSize?.width) setWinsize(stage.pty.master, p.consoleSize.height, p.consoleSize.width);
      sendToConsoleSocket(o.consoleSocket!, stage.pty.master, stage.pty.index);
    }
    const started = await stage.next(undefined, { id, status: 'running' });
    if (!started?.started) throw await stage.failure(started);
    if (o.pidFile) writeFileAtomic(path.resolve(o.pidFile), String(started.pid), 0o644);
    if (o.detach) { stage.child.unref(); return 0; }
    return await stage.exited;
  } finally {
    stage.close();
  }
}

function capNames(list: string[]): string[] {
  return list.map((c) => {
    const n = String(c).toUpperCase().replace(/^CAP_/, '');
    if (!CAPS.includes(n)) throw new OciError(`exec: process.capabilities: unknown capability ${JSON.stringify(c)}`);
    return n;
  });
}

/** The OCI process object: from --process, else built from the inline flags. */
function processOf(o: ExecOptions): any {
  if (o.processFile) {
    let p: any;
    try {
      p = JSON.parse(fs.readFileSync(o.processFile, 'utf8'));
    } catch (e: any) {
      throw new OciError(`exec --process ${o.processFile}: ${e.message}`);
    }
    if (!Array.isArray(p.args) || !p.args.length) throw new OciError(`exec --process ${o.processFile}: args must be a non-empty list`);
    if (p.cwd !== undefined && (typeof p.cwd !== 'string' || !p.cwd.startsWith('/'))) throw new OciError(`exec --process ${o.processFile}: cwd must be an absolute path`);
    return p;
  }
  if (!o.args.length) throw new OciError('exec: no command given (use --process FILE or give the arguments)');
  const [uid, gid] = (o.user ?? '0:0').split(':').map(Number);
  if (!Number.isInteger(uid) || (gid !== undefined && !Number.isInteger(gid))) throw new OciError(`exec --user ${o.user}: must be UID[:GID]`);
  return { args: o.args, cwd: o.cwd, env: o.env, user: { uid, gid: gid ?? 0 }, terminal: o.tty };
}
