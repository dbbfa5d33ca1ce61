// The OCI runtime's own records: one directory per container under the state root
// (`--root`, /run/box-oci by default, as runc's is /run/runc), holding state.json and, from
// `create` until `start`, the exec fifo the container's init waits on. No box process stays
// with a container, so the record is all there is: every verb reads it and checks the
// recorded PID against its start time before it signals or reads anything of it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { processStart, readStat } from '../util/proc';
import { writeFileAtomic } from '../util/atomic';
import { cgroupManagerAt } from '../cgroup/manager';
import { V1, V2 } from '../cgroup/files';
import { OciError } from './errors';
import type { Hook, ProcessExtras } from '../options/types';
import type { SeccompFilter } from '../seccomp';

export const OCI_VERSION = '1.0.2';
export const DEFAULT_ROOT = '/run/box-oci';

export interface OciRecord {
  id: string;
  pid: number;              // the init's host PID (the stage, then the user's process: execve keeps it)
  pidStart: string;         // its start time: a reused PID is never taken for it
  bundle: string;
  rootfs: string;
  created: string;          // ISO time
  annotations: Record<string, string>;
  cgroupPath: string;       // below each hierarchy's root (config.json's cgroupsPath, or box's default)
  namespaces: Record<string, number>; // inode numbers at create: what `exec` must join
  hooks: { poststart: Hook[]; poststop: Hook[] };
  exec: ExecDefaults;       // what an exec'd process inherits (seccomp, capabilities, …)
  ownsCgroup: boolean;      // box made the leaf directory (delete removes it)
}

/** What `exec --process` starts from when its JSON leaves a field out: the container's own settings. */
export interface ExecDefaults { seccomp?: SeccompFilter; noNewPrivileges: boolean; capabilities: string[]; process: ProcessExtras }

export type OciStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export class OciStore {
  constructor(readonly root: string) {}

  dir(id: string) { return path.join(this.root, id); }
  fifo(id: string) { return path.join(this.dir(id), 'exec.fifo'); }

  /** An id as runc accepts it: it becomes a directory name. */
  static checkId(id: string | undefined): string {
    if (!id) throw new OciError('container id cannot be empty');
    if (!/^[\w+\-.]+$/.test(id) || id === '.' || id === '..' || id.length > 1024) throw new OciError(`invalid id format: ${id}`);
    return id;
  }

  /** A new container's directory; EEXIST is the engine's error "container with id exists". */
  claim(id: string): string {
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    try {
      fs.mkdirSync(this.dir(id), { mode: 0o700 });
    } catch (e: any) {
      if (e.code === 'EEXIST') throw new OciError(`container with id exists: ${id}`);
      throw e;
    }
    return this.dir(id);
  }

  save(r: OciRecord) {
    writeFileAtomic(path.join(this.dir(r.id), 'state.json'), JSON.stringify(r));
  }

  load(id: string): OciRecord {
    OciStore.checkId(id);
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), 'state.json'), 'utf8'));
    } catch (e: any) {
      if (e.code === 'ENOENT') throw new OciError(`container does not exist: ${id}`, 'not-found');
      throw e;
    }
  }

  ids(): string[] {
    try { return fs.readdirSync(this.root).filter((n) => fs.existsSync(path.join(this.root, n, 'state.json'))).sort(); } catch { return []; }
  }

  remove(id: string) {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }
}

/** The init is still the process recorded (not a zombie, not a reused PID). */
export function initAlive(r: OciRecord): boolean {
  return processStart(r.pid) === r.pidStart;
}

export function status(store: OciStore, r: OciRecord): OciStatus {
  if (!initAlive(r)) return 'stopped';
  if (fs.existsSync(store.fifo(r.id))) return 'created';
  if (frozen(r)) return 'paused';
  return 'running';
}

function frozen(r: OciRecord): boolean {
  for (const d of cgroupManagerAt(r.cgroupPath, undefined, { keepParent: true }).dirs) {
    for (const f of [V1.freezer.state, V2.freeze]) {
      try {
        const v = fs.readFileSync(path.join(d, f), 'utf8').trim();
        if (v === 'FROZEN' || v === '1') return true;
      } catch { /* not this hierarchy */ }
    }
  }
  return false;
}

/** The spec's state JSON (runtime.md "State"), as `state` prints it and hooks get it on stdin. */
export function stateJson(store: OciStore, r: OciRecord, override?: OciStatus) {
  const s = override ?? status(store, r);
  return {
    ociVersion: OCI_VERSION, id: r.id, status: s, pid: s === 'stopped' ? 0 : r.pid, bundle: r.bundle,
    rootfs: r.rootfs, created: r.created, owner: '', annotations: r.annotations,
  };
}

/** The zombie check runc makes: an init that exited but was not reaped yet is stopped. */
export function isZombie(pid: number): boolean {
  return readStat(pid)?.state === 'Z';
}
