// cgroup v1 backend: each controller's limit goes to the hierarchy that carries it
// (this host mounts cpu and cpuacct apart, CentOS co-mounts them: matched as sets).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { V1, DEFAULT_DEVICE_RULES } from './files';
import { Resources } from '../options/resources';

export interface Hier { controllers: string[]; dir: string }

const dirOf = (hs: Hier[], c: string) => hs.find((h) => h.controllers.includes(c))?.dir;

/** Write the limits; returns Docker-style warnings for what this host cannot do (the limit is then dropped). */
export function applyV1(hs: Hier[], r: Resources, opts: { privileged: boolean }): string[] {
  const warnings: string[] = [];
  const write = (controller: string, file: string, value: string | number, warning: string) => {
    const dir = dirOf(hs, controller);
    if (!dir || !fs.existsSync(path.join(dir, file))) { warnings.push(warning); return false; }
    fs.writeFileSync(path.join(dir, file), String(value));
    return true;
  };
  const cpu = cpuQuota(r);
  if (cpu) {
    write('cpu', V1.cpu.period, cpu.period, 'Your kernel does not support CPU cfs period or the cgroup is not mounted. Period discarded.');
    write('cpu', V1.cpu.quota, cpu.quota, 'Your kernel does not support CPU cfs quota or the cgroup is not mounted. Quota discarded.');
  }
  if (r.cpuShares) write('cpu', V1.cpu.shares, r.cpuShares, 'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
  if (r.cpusetCpus) write('cpuset', V1.cpuset.cpus, r.cpusetCpus, 'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
  if (r.cpusetMems) write('cpuset', V1.cpuset.mems, r.cpusetMems, 'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
  if (r.memoryReservation) write('memory', V1.memory.soft, r.memoryReservation, 'Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.');
  if (r.memory) {
    if (write('memory', V1.memory.limit, r.memory, 'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.')) {
      // Docker: without --memory-swap, swap may be as large as memory (memsw = 2 × memory)
      const memsw = r.memorySwap ?? r.memory * 2;
      const dir = dirOf(hs, 'memory')!;
      if (fs.existsSync(path.join(dir, V1.memory.memsw))) fs.writeFileSync(path.join(dir, V1.memory.memsw), String(memsw));
      else if (r.memorySwap !== undefined) warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    }
  }
  if (r.pidsLimit) write('pids', V1.pids.max, r.pidsLimit, 'Your kernel does not support pids limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
  const devices = dirOf(hs, 'devices');
  if (devices && !opts.privileged) {
    fs.writeFileSync(path.join(devices, V1.devices.deny), 'a');
    for (const rule of DEFAULT_DEVICE_RULES) fs.writeFileSync(path.join(devices, V1.devices.allow), rule);
  } else if (!devices && !opts.privileged) {
    warnings.push('Your kernel does not support the devices cgroup: device access is not restricted.');
  }
  return warnings;
}

export function cpuQuota(r: Resources): { period: number; quota: number } | undefined {
  if (r.nanoCpus) return { period: 100000, quota: Math.round((r.nanoCpus * 100000) / 1e9) };
  if (r.cpuQuota !== undefined || r.cpuPeriod !== undefined) return { period: r.cpuPeriod ?? 100000, quota: r.cpuQuota ?? -1 };
  return undefined;
}

const read = (f: string) => { try { return fs.readFileSync(f, 'utf8').trim(); } catch { return ''; } };

export function statsV1(hs: Hier[]) {
  const mem = dirOf(hs, 'memory'), acct = dirOf(hs, 'cpuacct'), pids = dirOf(hs, 'pids');
  const oom = mem ? /oom_kill (\d+)/.exec(read(path.join(mem, V1.memory.oomControl)))?.[1] : undefined;
  const limit = mem ? Number(read(path.join(mem, V1.memory.limit))) : NaN;
  return {
    cpuNs: acct ? Number(read(path.join(acct, V1.cpuacct.usage))) : NaN,
    memory: mem ? Number(read(path.join(mem, V1.memory.usage))) : NaN,
    memoryLimit: limit >= 2 ** 62 ? Infinity : limit,
    pids: pids ? Number(read(path.join(pids, V1.pids.current))) : NaN,
    oomKills: Number(oom ?? 0),
  };
}
