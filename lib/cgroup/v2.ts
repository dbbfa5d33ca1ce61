// cgroup v2: one directory under box's parent, whose cgroup.subtree_control box sets on
// every create; the v1 device rules become an eBPF program; freezing is cgroup.freeze and
// killing everything is cgroup.kill (5.14+).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { V2, DEFAULT_DEVICE_RULES } from './files';
import { deviceProgram, parseRule } from './devices-bpf';
import * as libc from '../libc';
import { Resources, sharesToWeight } from '../options/resources';
import { cpuQuota } from './v1';
import { BaseCgroup, CgroupWrite, sleepMs, KILL_FREEZE_MS, mkdirUnder } from './base';
import { writeCgroup, readCgroup } from './write';
import type { ApplyResult, CgroupStats } from './manager';

/** Attach an allow-list of devices (Docker's default unless an OCI config gave its own) to a cgroup v2 directory. */
export function restrictDevices(dir: string, rules: string[] = DEFAULT_DEVICE_RULES) {
  const prog = libc.bpfLoadDeviceProgram(deviceProgram(rules.map(parseRule)));
  const cg = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    libc.bpfAttachDevice(cg, prog, dir);
  } finally {
    fs.closeSync(cg);
    fs.closeSync(prog); // the attachment keeps the program alive until the cgroup goes
  }
}

/** The v2 files for these limits, in order; each file's prefix is its controller. */
export function planV2(r: Resources): CgroupWrite[] {
  const plan: CgroupWrite[] = [];
  const add = (file: string, value: string | number, missing?: string, needs?: string) => plan.push({ controller: file.split('.')[0], file, value: String(value), missing, needs });
  const cpu = cpuQuota(r);
  if (cpu) add(V2.cpu.max, `${cpu.quota < 0 ? 'max' : cpu.quota} ${cpu.period}`, 'Your kernel does not support CPU cfs quota or the cgroup is not mounted. Quota discarded.');
  if (r.cpuShares) add(V2.cpu.weight, sharesToWeight(r.cpuShares), 'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
  if (r.cpusetCpus) add(V2.cpuset.cpus, r.cpusetCpus, 'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
  if (r.cpusetMems) add(V2.cpuset.mems, r.cpusetMems, 'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
  if (r.memoryReservation) add(V2.memory.low, r.memoryReservation, 'Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.');
  if (r.memory) {
    add(V2.memory.max, r.memory, 'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
    // v2 limits swap alone: --memory-swap is memory + swap; default: as much swap as memory
    const swap = r.memorySwap === -1 ? 'max' : (r.memorySwap ?? r.memory * 2) - r.memory;
    add(V2.memory.swapMax, swap, r.memorySwap !== undefined ? 'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.' : undefined, V2.memory.max);
  }
  // v2 has no swappiness: Docker ignores --memory-swappiness there with its warning (no such file: the warning)
  if (r.memorySwappiness !== undefined) add('memory.swappiness', r.memorySwappiness, 'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
  if (r.pidsLimit) add(V2.pids.max, r.pidsLimit, 'Your kernel does not support pids limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
  return plan;
}

const words = (s: string) => s.split(/\s+/).filter(Boolean);

export class V2Cgroup extends BaseCgroup {
  readonly mode = 'v2' as const;

  /** `root`: the cgroup2 mountpoint, whose files are the host's and never written. */
  constructor(private readonly dir: string, private readonly root: string) {
    super([{ controllers: [], dir }]);
  }

  /**
   * Every level box owns is made and its controllers enabled for its children on every
   * create, not only by whoever made it first: two first runs at once would otherwise race
   * (one makes /box, the other makes its container in it before the controllers are on,
   * and its limits are dropped). The root's subtree_control is the host's: a controller
   * it does not pass down is missing here, and its limits warn.
   */
  create() {
    mkdirUnder(this.dir, () => {
      for (const level of this.ownLevels()) {
        try { fs.mkdirSync(level); } catch (e: any) { if (e.code !== 'EEXIST') throw e; }
        enableControllers(level);
      }
    });
    this.hiers[0].controllers = words(readCgroup(path.join(this.dir, V2.controllers)));
  }

  /** The directories between the mountpoint and the container's, outermost first: box made them. */
  private ownLevels(): string[] {
    const levels: string[] = [];
    for (let d = path.dirname(this.dir); d.startsWith(this.root + '/'); d = path.dirname(d)) levels.unshift(d);
    return levels;
  }

  apply(r: Resources, opts: { privileged: boolean }): ApplyResult {
    const res: ApplyResult = { warnings: [] };
    if (!opts.privileged) {
      try {
        restrictDevices(this.dir, r.devices);
      } catch (e: any) {
        // without a device program, CAP_MKNOD would let the container make and open host disks
        res.mknodDropped = e.message;
        res.warnings.push(`cgroup v2 device program not attached, CAP_MKNOD dropped: ${e.message}`);
      }
    }
    res.warnings.push(...this.execute(planV2(r)));
    return res;
  }

  update(r: Partial<Resources>): ApplyResult {
    return { warnings: this.execute(planV2(r)) };
  }

  protected dirOf(): string {
    return this.dir;
  }

  stats(): CgroupStats {
    const read = (f: string) => readCgroup(path.join(this.dir, f));
    const usec = /usage_usec (\d+)/.exec(read(V2.cpu.stat))?.[1];
    const max = read(V2.memory.max);
    return {
      cpuNs: usec ? Number(usec) * 1000 : NaN,
      memory: Number(read(V2.memory.current) || NaN),
      memoryLimit: max === 'max' || !max ? Infinity : Number(max),
      pids: Number(read(V2.pids.current) || NaN),
      oomKills: this.oomKills(),
    };
  }

  oomKills(): number {
    return Number(/oom_kill (\d+)/.exec(readCgroup(path.join(this.dir, V2.memory.events)))?.[1] ?? 0);
  }

  /** cgroup.freeze 1, then wait for the kernel's "frozen 1" in cgroup.events (freezing is asynchronous). */
  freeze(timeoutMs = 5000) {
    const file = path.join(this.dir, V2.freeze);
    if (!fs.existsSync(file)) throw new Error(`cgroup ${this.dir}: no cgroup.freeze (a kernel before 5.2)`);
    writeCgroup(file, '1');
    const deadline = Date.now() + timeoutMs;
    while (!/^frozen 1$/m.test(readCgroup(path.join(this.dir, V2.events)))) {
      if (Date.now() > deadline) {
        try { writeCgroup(file, '0'); } catch { /* gone */ } // not left half-frozen
        throw new Error(`cgroup ${this.dir}: not frozen after ${timeoutMs} ms`);
      }
      sleepMs(1);
    }
  }

  thaw() {
    writeCgroup(path.join(this.dir, V2.freeze), '0');
  }

  /** cgroup.kill where the kernel has it (atomic, forks included); else freeze, kill what is listed, thaw. */
  killAll() {
    if (!fs.existsSync(this.dir)) return;
    const kill = path.join(this.dir, V2.kill);
    if (fs.existsSync(kill)) {
      try { writeCgroup(kill, '1'); } catch { /* gone */ }
      return;
    }
    const freezer = fs.existsSync(path.join(this.dir, V2.freeze));
    if (freezer) try { this.freeze(KILL_FREEZE_MS); } catch { /* gone, or not frozen in time: kill what is listed anyway */ }
    this.killListed();
    if (freezer) try { this.thaw(); } catch { /* gone */ }
  }
}

/**
 * Let a level's children use every controller the level has (runc does this on every
 * create too). Only the missing ones are written; one that cannot be enabled is left off,
 * and the limits that need it warn.
 */
export function enableControllers(level: string) {
  const on = new Set(words(readCgroup(path.join(level, V2.subtree))));
  const missing = words(readCgroup(path.join(level, V2.controllers))).filter((c) => !on.has(c));
  if (!missing.length) return;
  const file = path.join(level, V2.subtree);
  try {
    writeCgroup(file, missing.map((c) => '+' + c).join(' '));
  } catch (e: any) {
    if (e.code === 'ENOENT') throw e; // the level was removed under us: create() makes it again
    for (const c of missing) try { writeCgroup(file, '+' + c); } catch { /* not available here */ }
  }
}
