// Container records: /var/lib/box/containers/<id>/state.json, written atomically (temp +
// rename). A name is reserved by creating /var/lib/box/names/<name> (a symlink to the id):
// creation is atomic, so two runs cannot take the same name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { CONTAINERS, NAMES, containerDir } from './paths';
import { BoxError } from '../libc/errors';
import { ContainerSpec, StageConfig } from '../options/types';
import { SeccompFilter } from '../seccomp';
import { processStart } from '../util/proc';

export type Status = 'created' | 'running' | 'exited' | 'dead';

export interface ContainerState {
  id: string;
  name: string;
  image: string;
  spec: ContainerSpec;
  status: Status;
  created: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  oomKilled?: boolean;
  pid?: number;                         // container PID 1, host view
  pidStart?: string;                    // its start time (lib/util/proc.ts): signals go to that process only
  owner: { pid: number; start: string }; // the box process responsible for tearing it down
  cgroups: string[];
  rootfs: StageConfig['rootfs'];          // the image's layers and this container's writable layer
  namespaces?: Record<string, number>;   // nsfs inode numbers of PID 1 at start: what exec joins
  namespaceFds?: Record<string, number>; // the owner's fds on them, held while the container lives
  seccomp?: SeccompFilter;               // compiled at create: run and every exec load the same program
}

export function newId(): string {
  return crypto.randomBytes(32).toString('hex');
}

export function ownerAlive(s: ContainerState): boolean {
  return processStart(s.owner.pid) === s.owner.start;
}

export function reserveName(name: string, id: string) {
  fs.mkdirSync(NAMES, { recursive: true, mode: 0o700 });
  try {
    fs.symlinkSync(id, path.join(NAMES, name));
  } catch (e: any) {
    if (e.code !== 'EEXIST') throw e;
    let holder = '';
    try { holder = fs.readlinkSync(path.join(NAMES, name)); } catch { /* raced away */ }
    throw new BoxError(`box: Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
  }
}

export function releaseName(name: string, id: string) {
  const p = path.join(NAMES, name);
  try { if (fs.readlinkSync(p) === id) fs.unlinkSync(p); } catch { /* gone */ }
}

export function save(s: ContainerState) {
  const dir = containerDir(s.id);
  if (!fs.existsSync(dir)) return; // removed meanwhile (box rm -f)
  const tmp = path.join(dir, `.state.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(s, null, 1));
  fs.renameSync(tmp, path.join(dir, 'state.json'));
}

export function load(id: string): ContainerState | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(containerDir(id), 'state.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

export function list(): ContainerState[] {
  let ids: string[] = [];
  try { ids = fs.readdirSync(CONTAINERS); } catch { return []; }
  return ids.filter((i) => /^[0-9a-f]{64}$/.test(i)).map(load).filter((s): s is ContainerState => !!s);
}

/** Full id, unique id prefix or name → state. */
export function find(ref: string): ContainerState {
  try {
    const id = fs.readlinkSync(path.join(NAMES, ref));
    const s = load(id);
    if (s) return s;
  } catch { /* not a name */ }
  const matches = list().filter((s) => s.id.startsWith(ref));
  if (matches.length === 1 && ref.length > 0) return matches[0];
  if (matches.length > 1) throw new BoxError(`box: multiple IDs found with provided prefix: ${ref}`);
  throw new BoxError(`box: No such container: ${ref}`);
}

export function removeRecord(s: ContainerState) {
  releaseName(s.name, s.id);
  fs.rmSync(containerDir(s.id), { recursive: true, force: true });
}
