// `ps [--format json] ID`: the host PIDs of every process in the container's cgroup
// (docker top calls it with --format json and lays out the table itself).
import { spawnSync } from 'node:child_process';
import { cgroupManagerAt } from '../cgroup/manager';
import { OciStore } from './state';

export function ociPs(store: OciStore, id: string, format: string, psArgs: string[]): string {
  const r = store.load(id);
  const pids = cgroupManagerAt(r.cgroupPath, undefined, { keepParent: true }).pids().sort((a, b) => a - b);
  if (format === 'json') return JSON.stringify(pids) + '\n';
  // the table: ps(1)'s own output, its header and the container's lines (runc does the same)
  const out = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' }).stdout ?? '';
  const [header, ...lines] = out.split('\n');
  const col = header.trim().split(/\s+/).indexOf('PID');
  const mine = lines.filter((l) => col >= 0 && pids.includes(Number(l.trim().split(/\s+/)[col])));
  return [header, ...mine].join('\n') + '\n';
}
