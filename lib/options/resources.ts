// Docker's resource flags → Resources, with Docker's units, ranges and messages.
// Pure (the CPU count is passed in), so it is unit-tested without root.
import { BoxError } from '../libc/errors';
import { OptionTable } from './flags';

export interface Resources {
  nanoCpus?: number;          // --cpus × 1e9
  cpuPeriod?: number;         // µs
  cpuQuota?: number;          // µs, -1 unlimited
  cpuShares?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  memory?: number;            // bytes
  memorySwap?: number;        // memory + swap, bytes; -1 unlimited
  memoryReservation?: number; // bytes (soft limit)
  pidsLimit?: number;         // > 0; unlimited is left undefined
  memorySwappiness?: number;  // 0..100, v1 only (--memory-swappiness, lib/options/run-extra.ts)
  devices?: string[];         // the devices allowed after "deny all", as v1 rules ("c 1:3 rwm"); Docker's default list if unset (OCI configs give their own)
}

export const RESOURCE_OPTIONS: OptionTable = {
  cpus: { type: 'string' },
  'cpu-period': { type: 'string' },
  'cpu-quota': { type: 'string' },
  'cpu-shares': { type: 'string', short: 'c' },
  'cpuset-cpus': { type: 'string' },
  'cpuset-mems': { type: 'string' },
  memory: { type: 'string', short: 'm' },
  'memory-swap': { type: 'string' },
  'memory-reservation': { type: 'string' },
  'pids-limit': { type: 'string' },
};

const MIN_MEMORY = 6 * 1024 * 1024;

/** Docker's RAMInBytes: a number with an optional b/k/m/g (also kb, mb, gb) suffix, 1024-based. */
export function parseBytes(flag: string, s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(s.trim());
  if (!m) throw new BoxError(`box run: invalid ${flag} "${s}": invalid size: expected a number with an optional unit b, k, m or g`);
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as 'k'];
  return inRange(flag, s, Math.floor(Number(m[1]) * mult));
}

function parseInteger(flag: string, s: string): number {
  if (!/^-?\d+$/.test(s.trim())) throw new BoxError(`box run: invalid ${flag} "${s}": not an integer`);
  return inRange(flag, s, Number(s));
}

/**
 * Docker parses these flags as int64 and refuses what does not fit; box's numbers are
 * doubles, exact up to 2^53: beyond that a value would be rounded (and the kernel would
 * answer a write of 1e+20 with ERANGE), so it is refused here, naming the flag.
 */
function inRange(flag: string, s: string, n: number): number {
  if (!Number.isSafeInteger(n)) throw new BoxError(`box run: invalid ${flag} "${s}": value out of range (at most ${Number.MAX_SAFE_INTEGER})`);
  return n;
}

/** "0-2,5" → [0,1,2,5]; throws on bad syntax. */
export function parseCpuList(flag: string, s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1]))) throw new BoxError(`box run: invalid ${flag} "${s}": expected a list like 0-2,4`);
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) out.push(i);
  }
  return out;
}

export function parseResources(v: Record<string, string | undefined>, ncpu: number, available = { cpus: range(ncpu), mems: [0] }): Resources {
  const r: Resources = {};
  if (v.cpus !== undefined) {
    const n = Number(v.cpus);
    if (!/^\d*\.?\d+$/.test(v.cpus) || !Number.isFinite(n)) throw new BoxError(`box run: invalid --cpus "${v.cpus}": not a number`);
    // 0: no limit, as in Docker
    if (n !== 0 && (n < 0.01 || n > ncpu)) throw new BoxError(`box run: Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
    if (n !== 0) r.nanoCpus = Math.round(n * 1e9);
  }
  if (v['cpu-period'] !== undefined) {
    r.cpuPeriod = parseInteger('--cpu-period', v['cpu-period']);
    if (r.nanoCpus) throw new BoxError('box run: Conflicting options: Nano CPUs and CPU Period cannot both be set');
    if (r.cpuPeriod !== 0 && (r.cpuPeriod < 1000 || r.cpuPeriod > 1000000)) throw new BoxError('box run: CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
    if (r.cpuPeriod === 0) delete r.cpuPeriod;
  }
  if (v['cpu-quota'] !== undefined) {
    r.cpuQuota = parseInteger('--cpu-quota', v['cpu-quota']);
    if (r.nanoCpus) throw new BoxError('box run: Conflicting options: Nano CPUs and CPU Quota cannot both be set');
    if (r.cpuQuota > 0 && r.cpuQuota < 1000) throw new BoxError('box run: CPU cfs quota can not be less than 1ms (i.e. 1000)');
    if (r.cpuQuota === 0) delete r.cpuQuota;
    else if (r.cpuQuota < 0) r.cpuQuota = -1;
  }
  if (v['cpu-shares'] !== undefined) {
    const n = parseInteger('--cpu-shares', v['cpu-shares']);
    // the kernel's (and Docker's) range: smaller values become 2, larger 262144
    if (n !== 0) r.cpuShares = Math.min(262144, Math.max(2, n));
  }
  if (v['cpuset-cpus'] !== undefined) {
    const want = parseCpuList('--cpuset-cpus', v['cpuset-cpus']);
    const missing = want.filter((c) => !available.cpus.includes(c));
    if (missing.length) throw new BoxError(`box run: Requested CPUs are not available - requested ${v['cpuset-cpus']}, available: ${format(available.cpus)}`);
    r.cpusetCpus = v['cpuset-cpus'];
  }
  if (v['cpuset-mems'] !== undefined) {
    const want = parseCpuList('--cpuset-mems', v['cpuset-mems']);
    const missing = want.filter((c) => !available.mems.includes(c));
    if (missing.length) throw new BoxError(`box run: Requested memory nodes are not available - requested ${v['cpuset-mems']}, available: ${format(available.mems)}`);
    r.cpusetMems = v['cpuset-mems'];
  }
  if (v.memory !== undefined) {
    r.memory = parseBytes('--memory', v.memory);
    if (r.memory === 0) delete r.memory;
    else if (r.memory < MIN_MEMORY) throw new BoxError('box run: Minimum memory limit allowed is 6MB');
  }
  if (v['memory-reservation'] !== undefined) {
    r.memoryReservation = parseBytes('--memory-reservation', v['memory-reservation']);
    if (r.memoryReservation === 0) delete r.memoryReservation;
    else if (r.memoryReservation < MIN_MEMORY) throw new BoxError('box run: Minimum memory reservation allowed is 6MB');
    else if (r.memory && r.memory < r.memoryReservation) throw new BoxError('box run: Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (v['memory-swap'] !== undefined) {
    const s = v['memory-swap'].trim() === '-1' ? -1 : parseBytes('--memory-swap', v['memory-swap']);
    if (s !== 0) {
      if (!r.memory) throw new BoxError('box run: You should always set the Memory limit when using Memoryswap limit, see usage');
      if (s !== -1 && s < r.memory) throw new BoxError('box run: Minimum memoryswap limit should be larger than memory limit, see usage');
      r.memorySwap = s;
    }
  }
  if (v['pids-limit'] !== undefined) {
    const n = parseInteger('--pids-limit', v['pids-limit']);
    if (n > 0) r.pidsLimit = n; // 0 and -1: unlimited
  }
  return r;
}

/** What this host offers, for --cpus and --cpuset-* checks (online CPUs and memory nodes). */
export function hostCpus(): { ncpu: number; cpus: number[]; mems: number[] } {
  // the default only without sysfs: os.cpus() reads /proc/stat, /proc/cpuinfo and every CPU's cpufreq
  const list = (f: string, dflt: () => string) => {
    let text = '';
    try { text = require('node:fs').readFileSync(f, 'utf8').trim(); } catch { /* no sysfs */ }
    return parseCpuList('cpu list', text || dflt());
  };
  const cpus = list('/sys/devices/system/cpu/online', () => `0-${require('node:os').cpus().length - 1}`);
  return { ncpu: cpus.length, cpus, mems: list('/sys/devices/system/node/online', () => '0') };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function format(list: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < list.length; i++) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j] + 1) j++;
    parts.push(i === j ? `${list[i]}` : `${list[i]}-${list[j]}`);
    i = j;
  }
  return parts.join(',');
}

/**
 * cgroup v2's cpu.weight (1…10000, default 100) from v1 shares (2…262144, default 1024), as
 * runc (1.3.2+, opencontainers/cgroups) and crun (1.23+) convert: a quadratic in log2 space
 * through the three points that matter — 2 → 1, 1024 → 100, 262144 → 10000. (The linear map
 * they used before gave Docker's default 1024 shares a weight of 39, so a container without
 * --cpu-shares got less than half the CPU of a v2 peer at the default 100.)
 */
export function sharesToWeight(shares: number): number {
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}
