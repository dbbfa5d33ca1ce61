// PLACEHOLDER until the full translation lands: config.json mounts → box's mount plan.
import * as path from 'node:path';
import { MS } from '../libc/constants';
import { MountOp, DEVICES } from '../mount/plan';

const FLAGS: Record<string, number> = { ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, strictatime: MS.STRICTATIME, bind: MS.BIND, rbind: MS.BIND | MS.REC };
const IGNORE = new Set(['rw', 'private', 'rprivate', 'suid', 'dev', 'exec', 'relatime']);

export function ociMountPlan(config: any, rootPath: string, opts: { bundle: string; noPivot?: boolean } = { bundle: '/' }): MountOp[] {
  const at = (p: string) => path.posix.join(rootPath, p);
  const ops: MountOp[] = [{ op: 'private-root' }, { op: 'mount', source: rootPath, target: rootPath, fstype: null, flags: MS.BIND | MS.REC }];
  let devBound = false;
  for (const m of config.mounts ?? []) {
    let flags = 0; const data: string[] = [];
    for (const o of m.options ?? []) { if (o in FLAGS) flags |= FLAGS[o]; else if (!IGNORE.has(o)) data.push(o); }
    const bind = (flags & MS.BIND) !== 0 || m.type === 'bind';
    if (m.destination === '/dev' && bind) devBound = true;
    if (m.type === 'cgroup') continue;
    const source = bind ? path.resolve(opts.bundle, m.source) : m.source;
    ops.push({ op: 'mount', source, target: at(m.destination), fstype: bind ? null : m.type, flags: bind ? flags & ~MS.RDONLY | MS.BIND : flags, data: bind ? undefined : data.join(',') || undefined, mkdir: 'dir' });
    if (bind && flags & MS.RDONLY) ops.push({ op: 'remount-ro', path: at(m.destination), recursive: true });
  }
  if (!devBound) {
    for (const [name, major, minor] of DEVICES) ops.push({ op: 'mknod', path: at(`/dev/${name}`), major, minor, mode: 0o666 });
    ops.push({ op: 'symlink', target: 'pts/ptmx', path: at('/dev/ptmx') }, { op: 'symlink', target: '/proc/self/fd', path: at('/dev/fd') });
  }
  if (config.process?.terminal) ops.push({ op: 'file', path: at('/dev/console') });
  ops.push({ op: 'pivot', root: rootPath, noPivot: !!opts.noPivot });
  for (const p of config.linux?.maskedPaths ?? []) ops.push({ op: 'mask', path: p });
  for (const p of config.linux?.readonlyPaths ?? []) ops.push({ op: 'readonly', path: p });
  if (config.root?.readonly) ops.push({ op: 'remount-ro', path: '/', recursive: false });
  return ops;
}
