// cgroup v2 backend: one directory, the controllers enabled by box's own parent.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { V2, DEFAULT_DEVICE_RULES } from './files';
import { deviceProgram, parseRule } from './devices-bpf';
import * as libc from '../libc';
import { Resources, sharesToWeight } from '../options/resources';
import { cpuQuota } from './v1';

/** Attach the allow-list of Docker's default devices to a cgroup v2 directory. */
export function restrictDevices(dir: string) {
  const prog = libc.bpfLoadDeviceProgram(deviceProgram(DEFAULT_DEVICE_RULES.map(parseRule)));
  const cg = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    libc.bpfAttachDevice(cg, prog, dir);
  } finally {
    fs.closeSync(cg);
    fs.closeSync(prog); // the attachment keeps the program alive until the cgroup goes
  }
}

export function applyV2(dir: string, r: Resources, opts: { privileged: boolean } = { privileged: false }): string[] {
  const warnings: string[] = [];
  if (!opts.privileged) {
    try {
      restrictDevices(dir);
    } catch (e: any) {
      warnings.push(`${MKNOD_DROPPED}: ${e.message}`);
    }
  }
  const write = (file: string, value: string | number, warning: string) => {
    if (!fs.existsSync(path.join(dir, file))) { warnings.push(warning); return; }
    fs.writeFileSync(path.join(dir, file), String(value));
  };
  const cpu = cpuQuota(r);
  if (cpu) write(V2.cpu.max, `${cpu.quota < 0 ? 'max' : cpu.quota} ${cpu.period}`, 'Your kernel does not support CPU cfs quota or the cgroup is not mounted. Quota discarded.');
  if (r.cpuShares) write(V2.cpu.weight, sharesToWeight(r.cpuShares), 'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
  if (r.cpusetCpus) write(V2.cpuset.cpus, r.cpusetCpus, 'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
  if (r.cpusetMems) write(V2.cpuset.mems, r.cpusetMems, 'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
  if (r.memoryReservation) write(V2.memory.low, r.memoryReservation, 'Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.');
  if (r.memory) {
    write(V2.memory.max, r.memory, 'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
    // v2 limits swap alone: --memory-swap is memory + swap; default: as much swap as memory
    const swap = r.memorySwap === -1 ? 'max' : (r.memorySwap ?? r.memory * 2) - r.memory;
    if (fs.existsSync(path.join(dir, V2.memory.swapMax))) fs.writeFileSync(path.join(dir, V2.memory.swapMax), String(swap));
    else if (r.memorySwap !== undefined) warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
  }
  if (r.pidsLimit) write(V2.pids.max, r.pidsLimit, 'Your kernel does not support pids limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
  return warnings;
}

/** Without a device program, CAP_MKNOD would let the container open host disks: it is dropped. */
export const MKNOD_DROPPED = 'cgroup v2 device program not attached, CAP_MKNOD dropped';

const read = (f: string) => { try { return fs.readFileSync(f, 'utf8').trim(); } catch { return ''; } };

export function statsV2(dir: string) {
  const usec = /usage_usec (\d+)/.exec(read(path.join(dir, V2.cpu.stat)))?.[1];
  const max = read(path.join(dir, V2.memory.max));
  return {
    cpuNs: usec ? Number(usec) * 1000 : NaN,
    memory: Number(read(path.join(dir, V2.memory.current)) || NaN),
    memoryLimit: max === 'max' || !max ? Infinity : Number(max),
    pids: Number(read(path.join(dir, V2.pids.current)) || NaN),
    oomKills: Number(/oom_kill (\d+)/.exec(read(path.join(dir, V2.memory.events)))?.[1] ?? 0),
  };
}
