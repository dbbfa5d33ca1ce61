// What a container uses, read from its cgroups and its processes: `box stats`, `box top`,
// a library caller. Numbers only; formatting is the CLI's.
import * as fs from 'node:fs';
import { ContainerState } from '../state/store';
import { managerForDirs } from '../cgroup/manager';
import { isRunning } from './query';
import { readStat } from '../util/proc';

export interface Stats {
  cpuNs: number;                 // CPU time used, all time
  memory: number;                // bytes in use (NaN: no memory controller)
  memoryLimit: number;           // Infinity when unlimited
  pids: number;
  oomKills: number;
  net: { rx: number; tx: number };     // bytes, every interface of its network namespace
  block: { read: number; write: number };
}

export function stats(s: ContainerState): Stats {
  const st = managerForDirs(s.cgroups).stats();
  const [rx, tx] = isRunning(s) ? netIO(s.pid!) : [0, 0];
  const [read, write] = blockIO(s.cgroups);
  return { ...st, net: { rx, tx }, block: { read, write } };
}

function netIO(pid: number): [number, number] {
  try {
    return fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2).filter(Boolean)
      .map((l) => l.trim().split(/[:\s]+/)).reduce(([rx, tx], f) => [rx + Number(f[1]), tx + Number(f[9])], [0, 0]);
  } catch { return [0, 0]; }
}

function blockIO(dirs: string[]): [number, number] {
  for (const d of dirs) {
    for (const [file, re] of [['blkio.throttle.io_service_bytes', /^\S+ (Read|Write) (\d+)/gm], ['io.stat', /(rbytes|wbytes)=(\d+)/g]] as const) {
      try {
        let r = 0, w = 0;
        for (const m of fs.readFileSync(`${d}/${file}`, 'utf8').matchAll(re)) (m[1] === 'Read' || m[1] === 'rbytes' ? (r += Number(m[2])) : (w += Number(m[2])));
        return [r, w];
      } catch { /* not this one */ }
    }
  }
  return [0, 0];
}

export interface ProcessInfo { pid: number; ppid: number; uid: number; cpuTicks: number; command: string }

/** The container's processes with host PIDs, from its cgroups (`box top`). */
export function processes(s: ContainerState): ProcessInfo[] {
  return managerForDirs(s.cgroups).pids().sort((a, b) => a - b).flatMap((pid) => {
    try {
      const st = readStat(pid);
      if (!st) return [];
      const uid = Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)![1]);
      const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') || `[${st.comm}]`;
      return [{ pid, ppid: st.ppid, uid, cpuTicks: st.utime + st.stime, command }];
    } catch { return []; }
  });
}
