// cgroup v1: one directory per hierarchy; each controller's limit goes to the hierarchy
// that carries it (this host mounts cpu and cpuacct apart, CentOS co-mounts them: matched
// as sets). Freezing is the freezer hierarchy's freezer.state.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { V1, DEFAULT_DEVICE_RULES } from './files';
import { Resources } from '../options/resources';
import { BaseCgroup, CgroupWrite, sleepMs, KILL_FREEZE_MS, mkdirUnder } from './base';
import { writeCgroup, readCgroup } from './write';
import type { ApplyResult, CgroupStats } from './manager';

const W = {
  period: 'Your kernel does not support CPU cfs period or the cgroup is not mounted. Period discarded.',
  quota: 'Your kernel does not support CPU cfs quota or the cgroup is not mounted. Quota discarded.',
  shares: 'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.',
  cpuset: 'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.',
  soft: 'Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.',
  memory: 'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.',
  swap: 'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.',
  pids: 'Your kernel does not support pids limit capabilities or the cgroup is not mounted. PIDs limit discarded.',
  devices: 'Your kernel does not support the devices cgroup: device access is not restricted.',
  swappiness: 'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.',
} as const;

/** --cpus, or --cpu-quota/--cpu-period, as CFS bandwidth (µs); undefined: unlimited. */
export function cpuQuota(r: Resources): { period: number; quota: number } | undefined {
  if (r.nanoCpus) return { period: 100000, quota: Math.round((r.nanoCpus * 100000) / 1e9) };
  if (r.cpuQuota !== undefined || r.cpuPeriod !== undefined) return { period: r.cpuPeriod ?? 100000, quota: r.cpuQuota ?? -1 };
  return undefined;
}

/**
 * The v1 files for these limits, in order. `devices`: write the default device rules (at
 * create, unprivileged). `memoryNow`: the current memory.limit_in_bytes — the kernel keeps
 * memory ≤ memsw at every write, so when the new memsw is above the current memory limit
 * (raising both, or -1) memsw goes first, as runc orders them.
 */
export function planV1(r: Resources, opts: { devices: boolean; memoryNow?: number }): CgroupWrite[] {
  const plan: CgroupWrite[] = [];
  const add = (controller: string, file: string, value: string | number, missing?: string, needs?: string) => plan.push({ controller, file, value: String(value), missing, needs });
  const cpu = cpuQuota(r);
  if (cpu) {
    add('cpu', V1.cpu.period, cpu.period, W.period);
    add('cpu', V1.cpu.quota, cpu.quota, W.quota);
  }
  if (r.cpuShares) add('cpu', V1.cpu.shares, r.cpuShares, W.shares);
  if (r.cpusetCpus) add('cpuset', V1.cpuset.cpus, r.cpusetCpus, W.cpuset);
  if (r.cpusetMems) add('cpuset', V1.cpuset.mems, r.cpusetMems, W.cpuset);
  if (r.memoryReservation) add('memory', V1.memory.soft, r.memoryReservation, W.soft);
  if (r.memory) {
    // Docker: without --memory-swap, swap may be as large as memory (memsw = 2 × memory).
    // memsw exists only with swap accounting: without it, a warning only if swap was asked for.
    const memsw = r.memorySwap ?? r.memory * 2;
    const memory = (): void => void add('memory', V1.memory.limit, r.memory!, W.memory);
    const swap = (): void => void add('memory', V1.memory.memsw, memsw, r.memorySwap !== undefined ? W.swap : undefined, V1.memory.limit);
    if (memsw === -1 || (opts.memoryNow ?? Infinity) < memsw) { swap(); memory(); } else { memory(); swap(); }
  }
  if (r.memorySwappiness !== undefined) add('memory', V1.memory.swappiness, r.memorySwappiness, W.swappiness);
  if (r.pidsLimit) add('pids', V1.pids.max, r.pidsLimit, W.pids);
  if (opts.devices) {
    add('devices', V1.devices.deny, 'a', W.devices);
    for (const rule of r.devices ?? DEFAULT_DEVICE_RULES) add('devices', V1.devices.allow, rule, undefined, V1.devices.deny);
  }
  return plan;
}

export class V1Cgroup extends BaseCgroup {
  readonly mode = 'v1' as const;

  create() {
    for (const h of this.hiers) {
      const parent = path.dirname(h.dir);
      // only cpuset's levels need filling (inheritCpuset); elsewhere the parent, made by an
      // earlier container, is usually there already: one mkdir (8 hierarchies on every run)
      const cpuset = h.controllers.includes('cpuset');
      mkdirUnder(h.dir, () => {
        fs.mkdirSync(parent, { recursive: true });
        if (cpuset) inheritCpuset(parent);
      }, !cpuset);
      if (cpuset) inheritCpuset(h.dir);
    }
  }

  apply(r: Resources, opts: { privileged: boolean }): ApplyResult {
    return { warnings: this.execute(planV1(r, { devices: !opts.privileged, memoryNow: this.memoryNow() })) };
  }

  update(r: Partial<Resources>): ApplyResult {
    return { warnings: this.execute(planV1(r, { devices: false, memoryNow: this.memoryNow() })) };
  }

  private memoryNow(): number | undefined {
    const dir = this.dirOf('memory');
    const v = dir ? Number(readCgroup(path.join(dir, V1.memory.limit)) || NaN) : NaN;
    return Number.isFinite(v) ? v : undefined;
  }

  oomKills(): number {
    const mem = this.dirOf('memory');
    return Number((mem && /oom_kill (\d+)/.exec(readCgroup(path.join(mem, V1.memory.oomControl)))?.[1]) ?? 0);
  }

  stats(): CgroupStats {
    const mem = this.dirOf('memory'), acct = this.dirOf('cpuacct'), pids = this.dirOf('pids');
    const read = (dir: string | undefined, f: string) => (dir ? Number(readCgroup(path.join(dir, f)) || NaN) : NaN);
    const limit = read(mem, V1.memory.limit);
    return {
      cpuNs: read(acct, V1.cpuacct.usage),
      memory: read(mem, V1.memory.usage),
      memoryLimit: limit >= 2 ** 62 ? Infinity : limit,
      pids: read(pids, V1.pids.current),
      oomKills: this.oomKills(),
    };
  }

  /**
   * FROZEN written until freezer.state reads FROZEN: a v1 freeze can stay FREEZING while
   * processes fork or join, so it is written again, with a thaw and a pause now and then
   * (runc's remedy for the same kernel behaviour).
   */
  freeze(timeoutMs = 5000) {
    const file = this.freezerState();
    const deadline = Date.now() + timeoutMs;
    let state = '';
    for (let i = 1; ; i++) {
      if (i % 50 === 0) { writeCgroup(file, 'THAWED'); sleepMs(10); }
      writeCgroup(file, 'FROZEN');
      state = readCgroup(file);
      if (state === 'FROZEN') return;
      if (Date.now() > deadline) break;
      if (i % 10 === 0) sleepMs(1);
    }
    try { writeCgroup(file, 'THAWED'); } catch { /* gone */ } // not left half-frozen
    throw new Error(`cgroup ${file}: not FROZEN after ${timeoutMs} ms (${state || 'gone'})`);
  }

  thaw() {
    writeCgroup(this.freezerState(), 'THAWED');
  }

  private freezerState(): string {
    const dir = this.dirOf('freezer');
    if (!dir) throw new Error('cgroup: this host has no freezer hierarchy (cgroup v1)');
    return path.join(dir, V1.freezer.state);
  }

  /** Frozen, nothing can fork between reading cgroup.procs and the kill; without a freezer, the kill is all. */
  killAll() {
    const dir = this.dirOf('freezer');
    if (!dir || !fs.existsSync(dir)) return this.killListed();
    try { this.freeze(KILL_FREEZE_MS); } catch { /* gone, or stuck FREEZING (thawed again): kill what is listed anyway */ }
    this.killListed();
    try { writeCgroup(path.join(dir, V1.freezer.state), 'THAWED'); } catch { /* gone */ } // frozen tasks die once thawed
  }
}

/** v1 cpuset starts empty in a new cgroup, and a task cannot join an empty cpuset (v2 inherits instead). */
function inheritCpuset(dir: string) {
  for (const f of [V1.cpuset.cpus, V1.cpuset.mems]) {
    const file = path.join(dir, f);
    if (!fs.existsSync(file) || readCgroup(file)) continue;
    writeCgroup(file, readCgroup(path.join(path.dirname(dir), f)));
  }
}
