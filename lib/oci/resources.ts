// config.json's `linux.resources` (and `update --resources`) → box's Resources, which the
// cgroup manager writes on v1 and v2 alike. Pure, unit-tested. A field box cannot apply is
// refused by name, never silently dropped: an engine that asks for a limit must get it or
// an error.
import { Resources } from '../options/resources';
import { OciError } from './errors';

const num = (v: any, field: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new OciError(`linux.resources.${field}: not a number: ${JSON.stringify(v)}`);
  return v;
};

/** `what` names the source in errors: "config.json" or "update --resources". */
export function ociResources(r: any = {}, what = 'config.json'): Resources {
  if (typeof r !== 'object' || r === null) throw new OciError(`${what}: linux.resources must be an object`);
  const out: Resources = {};
  const m = r.memory ?? {};
  const limit = num(m.limit, 'memory.limit');
  if (limit !== undefined && limit > 0) out.memory = limit;
  const swap = num(m.swap, 'memory.swap');
  if (swap !== undefined && swap !== 0) out.memorySwap = swap; // memory + swap, as Docker's --memory-swap; -1 unlimited
  const reservation = num(m.reservation, 'memory.reservation');
  if (reservation !== undefined && reservation > 0) out.memoryReservation = reservation;
  for (const f of ['kernel', 'kernelTCP'] as const) if (num(m[f], `memory.${f}`)) throw new OciError(`${what}: linux.resources.memory.${f} is not supported (deprecated in the runtime spec)`);
  if (m.disableOOMKiller) throw new OciError(`${what}: linux.resources.memory.disableOOMKiller is not supported`);
  if (num(m.swappiness, 'memory.swappiness') !== undefined && m.swappiness !== -1 && m.swappiness !== 0 && m.swappiness !== 60) {
    throw new OciError(`${what}: linux.resources.memory.swappiness is not supported`);
  }

  const c = r.cpu ?? {};
  const shares = num(c.shares, 'cpu.shares');
  if (shares) out.cpuShares = shares;
  const quota = num(c.quota, 'cpu.quota'), period = num(c.period, 'cpu.period');
  if (quota !== undefined && quota !== 0) out.cpuQuota = quota;
  if (period !== undefined && period !== 0) out.cpuPeriod = period;
  if (c.cpus) out.cpusetCpus = String(c.cpus);
  if (c.mems) out.cpusetMems = String(c.mems);
  if (num(c.realtimeRuntime, 'cpu.realtimeRuntime') || num(c.realtimePeriod, 'cpu.realtimePeriod')) throw new OciError(`${what}: linux.resources.cpu.realtimeRuntime/realtimePeriod are not supported`);

  const pids = num(r.pids?.limit, 'pids.limit');
  if (pids !== undefined && pids > 0) out.pidsLimit = pids;

  if (r.blockIO && Object.entries(r.blockIO).some(([k, v]) => (k === 'weight' || k === 'leafWeight' ? v !== 0 : Array.isArray(v) ? v.length : v !== undefined))) {
    throw new OciError(`${what}: linux.resources.blockIO is not supported`);
  }
  if (Array.isArray(r.hugepageLimits) && r.hugepageLimits.length) throw new OciError(`${what}: linux.resources.hugepageLimits is not supported`);
  if (r.network && (r.network.classID || r.network.priorities?.length)) throw new OciError(`${what}: linux.resources.network is not supported`);
  if (r.rdma && Object.keys(r.rdma).length) throw new OciError(`${what}: linux.resources.rdma is not supported`);
  if (r.unified && Object.keys(r.unified).length) throw new OciError(`${what}: linux.resources.unified is not supported`);
  if (r.devices !== undefined) out.devices = allowList(r.devices, what);
  return out;
}

interface DevRule { allow: boolean; type: string; major: number | '*'; minor: number | '*'; access: string }

/**
 * The OCI device rules (applied in order, the last match wins) as the allow-list box's v1
 * writer and v2 eBPF program take after "deny all". The engines send "deny all", allows,
 * and denies of devices nothing allowed (Docker denies fuse, 10:229): those change nothing.
 * A deny that takes back part of an earlier allow is refused rather than approximated.
 */
export function allowList(rules: any[], what = 'config.json'): string[] | undefined {
  if (!Array.isArray(rules)) throw new OciError(`${what}: linux.resources.devices must be an array`);
  let allowed: DevRule[] | undefined; // undefined: nothing restricted yet (the spec's default is to allow)
  rules.forEach((x, i) => {
    const r = devRule(x, i, what);
    const all = r.type === 'a' && r.major === '*' && r.minor === '*' && r.access === 'rwm';
    if (!r.allow) {
      if (all) { allowed = []; return; }
      if (!allowed) throw new OciError(`${what}: linux.resources.devices[${i}]: a deny rule without a preceding "deny all" is not supported`);
      const hit = allowed.findIndex((a) => overlaps(a, r));
      if (hit < 0) return; // denies what is not allowed: no change
      if (sameDevice(allowed[hit], r)) { allowed.splice(hit, 1); return; }
      throw new OciError(`${what}: linux.resources.devices[${i}]: a deny that narrows an earlier allow is not supported`);
    }
    if (all) { allowed = undefined; return; }
    (allowed ??= []).push(r);
  });
  return allowed?.map((r) => `${r.type} ${r.major}:${r.minor} ${r.access}`);
}

function devRule(x: any, i: number, what: string): DevRule {
  const at = `${what}: linux.resources.devices[${i}]`;
  if (typeof x?.allow !== 'boolean') throw new OciError(`${at}.allow must be true or false`);
  const type = x.type ?? 'a';
  if (!['a', 'b', 'c'].includes(type)) throw new OciError(`${at}.type: "${type}" is not a, b or c`);
  const n = (v: any, f: string): number | '*' => {
    if (v === undefined || v === null || v === -1) return '*';
    if (!Number.isInteger(v) || v < 0) throw new OciError(`${at}.${f}: not a device number`);
    return v;
  };
  const access = x.access ?? 'rwm';
  if (!/^[rwm]+$/.test(access)) throw new OciError(`${at}.access: "${access}" is not made of r, w and m`);
  return { allow: x.allow, type, major: n(x.major, 'major'), minor: n(x.minor, 'minor'), access: ['r', 'w', 'm'].filter((c) => access.includes(c)).join('') };
}

const matchNum = (a: number | '*', b: number | '*') => a === '*' || b === '*' || a === b;
function overlaps(a: DevRule, b: DevRule): boolean {
  return (a.type === 'a' || b.type === 'a' || a.type === b.type) && matchNum(a.major, b.major) && matchNum(a.minor, b.minor) && [...b.access].some((c) => a.access.includes(c));
}
function sameDevice(a: DevRule, b: DevRule): boolean {
  return a.type === b.type && a.major === b.major && a.minor === b.minor && [...a.access].every((c) => b.access.includes(c));
}
