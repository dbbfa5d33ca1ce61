// sysinfo(2) as the container's cgroup sees it: the figures (from the same views as
// /proc/meminfo, /proc/uptime and /proc/loadavg, so `free` and `cat /proc/meminfo` agree) and
// the bytes of `struct sysinfo` the caller's ABI expects. The handler that answers the
// seccomp notification with them is sysinfo-handler.ts.
import { callerOf, containerStartTicks, readOr } from './caller';
import { memInput, containerLoad, CLK_TCK } from './views';
import { swapOf, statValue, MemInput } from './meminfo';
import { parseMeminfo } from './parse';

export interface SysinfoValues {
  uptime: number;                       // seconds, rounded up as the kernel does
  loads: [number, number, number];      // load averages (not yet scaled)
  totalram: number; freeram: number; sharedram: number; bufferram: number; // bytes
  totalswap: number; freeswap: number;  // bytes
  procs: number;                        // tasks (threads, as the kernel's nr_threads)
}

/**
 * include/uapi/linux/sysinfo.h. '64': x86_64, x32 and arm64 (__kernel_long_t is 64-bit on all
 * three; x32's too): 112 bytes. '32': i386 and arm (the kernel's compat_sysinfo): 64 bytes.
 */
export type SysinfoAbi = '64' | '32';
export const SYSINFO_SIZE: Record<SysinfoAbi, number> = { '64': 112, '32': 64 };

const SI_LOAD_SHIFT = 16, PAGE_SIZE = 4096;
const U16_MAX = 0xffff;

export function encodeSysinfo(v: SysinfoValues, abi: SysinfoAbi): Buffer {
  const mem = [v.totalram, v.freeram, v.sharedram, v.bufferram, v.totalswap, v.freeswap].map((x) => BigInt(Math.max(0, Math.floor(x))));
  const loads = v.loads.map((l) => BigInt(Math.max(0, Math.round(l * (1 << SI_LOAD_SHIFT)))));
  const procs = Math.min(U16_MAX, Math.max(0, v.procs)); // a u16, which the kernel truncates; saturated here
  let unit = 1n;
  if (abi === '32') {
    // compat_sysinfo (kernel/sys.c): when totalram or totalswap does not fit 32 bits, every
    // figure is counted in pages instead (mem_unit PAGE_SIZE), then truncated to 32 bits
    let shift = 0n;
    if (mem[0] >> 32n || mem[4] >> 32n) while (unit < BigInt(PAGE_SIZE)) { unit <<= 1n; shift++; }
    for (let i = 0; i < mem.length; i++) mem[i] = BigInt.asUintN(32, mem[i] >> shift);
  }
  const w = abi === '64' ? 8 : 4;
  const b = Buffer.alloc(SYSINFO_SIZE[abi]);
  const put = (off: number, x: bigint) => (w === 8 ? b.writeBigUInt64LE(BigInt.asUintN(64, x), off) : b.writeUInt32LE(Number(BigInt.asUintN(32, x)), off));
  put(0, BigInt(Math.max(0, Math.ceil(v.uptime)))); // uptime (signed; never negative here)
  loads.forEach((l, i) => put(w * (1 + i), l));
  mem.forEach((x, i) => put(w * (4 + i), x));     // totalram … freeswap
  b.writeUInt16LE(procs, w * 10);                  // procs, then u16 pad
  // totalhigh, freehigh: 0 (no highmem on 64-bit hosts); then mem_unit
  const memUnitOff = abi === '64' ? 104 : 52;
  b.writeUInt32LE(Number(unit), memUnitOff);
  return b;
}

/** The host's figures (what the kernel would answer), from /proc. */
export function hostSysinfo(meminfo: string, uptime: string, loadavg: string): SysinfoValues {
  const h = parseMeminfo(meminfo);
  const kb = (k: string) => (h.get(k) ?? 0) * 1024;
  const l = loadavg.trim().split(/\s+/);
  return {
    uptime: Number(uptime.trim().split(/\s+/)[0]) || 0,
    loads: [Number(l[0]) || 0, Number(l[1]) || 0, Number(l[2]) || 0],
    totalram: kb('MemTotal'), freeram: kb('MemFree'), sharedram: kb('Shmem'), bufferram: kb('Buffers'),
    totalswap: kb('SwapTotal'), freeswap: kb('SwapFree'),
    procs: Number(/\/(\d+)/.exec(l[3] ?? '')?.[1]) || 0,
  };
}

/**
 * The container's figures over the host's: memory from its cgroup as /proc/meminfo's view
 * computes it (no limit, or one above the host's RAM: the host's memory lines), procs and
 * loads from its tasks, uptime from its pid namespace's init. Pure: test/unit feeds it files.
 */
export function containerSysinfo(host: SysinfoValues, m: MemInput | undefined, t: { procs?: number; loads?: [number, number, number]; uptime?: number }): SysinfoValues {
  const v = { ...host, ...(t.procs !== undefined ? { procs: t.procs } : {}), ...(t.loads ? { loads: t.loads } : {}), ...(t.uptime !== undefined ? { uptime: t.uptime } : {}) };
  if (!m || m.limit === undefined || m.limit >= host.totalram) return v;
  const limitKb = Math.floor(m.limit / 1024);
  const swap = swapOf(m, Math.floor(host.totalswap / 1024), limitKb);
  return {
    ...v,
    totalram: m.limit,
    freeram: m.limit - Math.min(m.limit, m.usage),  // meminfo's MemFree
    sharedram: statValue(m, 'shmem'),               // meminfo's Shmem
    bufferram: 0,                                   // meminfo's Buffers: a cgroup has no such figure
    totalswap: swap.total * 1024,
    freeswap: (swap.total - swap.used) * 1024,
  };
}

/**
 * sysinfo for the process `pid` (the host's pid). A caller not in a container's cgroup (or
 * whose cgroup cannot be read any more) gets the host's figures, as the kernel would answer.
 */
export function sysinfoFor(pid: number, now = Date.now() / 1000): SysinfoValues {
  const host = hostSysinfo(readOr('/proc/meminfo') ?? '', readOr('/proc/uptime') ?? '', readOr('/proc/loadavg') ?? '');
  const c = callerOf(pid);
  if (!c || c.atRoot) return host;
  const load = containerLoad(c, now);
  const init = containerStartTicks(pid, c, CLK_TCK, host.uptime);
  return containerSysinfo(host, memInput(c), {
    procs: load?.tasks,
    loads: load && [load.load.one, load.load.five, load.load.fifteen],
    uptime: init === undefined ? undefined : Math.max(0, host.uptime - init / CLK_TCK),
  });
}
