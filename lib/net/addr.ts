// IPv4 arithmetic and naming for box's networks (issue 17), all pure so that the unit tests
// cover every choice: which subnet a new network gets, which address a container gets, its MAC,
// the names of links. Addresses are handled as uint32 numbers; strings are checked on the way in.
import * as crypto from 'node:crypto';
import { ContainerError } from '../container/errors';

/** "A.B.C.D" → uint32, or undefined if it is not one (no leading zeros: "010" is octal to some parsers, so refused). */
export function ipToInt(s: string): number | undefined {
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(s);
  if (!m) return undefined;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return undefined;
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}
export const intToIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

export interface Subnet { base: number; prefix: number; size: number }

const maskOf = (prefix: number) => (prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0);

/** "A.B.C.D/N" → its range, not checked for being the network address (routes, comparisons). */
export function parseRange(cidr: string): Subnet | undefined {
  const m = /^([\d.]+)\/(0|[1-9]\d?)$/.exec(cidr);
  const a = m ? ipToInt(m[1]) : undefined;
  if (!m || a === undefined || Number(m[2]) > 32) return undefined;
  const prefix = Number(m[2]);
  return { base: (a & maskOf(prefix)) >>> 0, prefix, size: 2 ** (32 - prefix) };
}

/**
 * A network's subnet as the user gives it (`--subnet`): Docker's errors for a malformed CIDR and
 * for host bits set. /31 and /32 leave no address for a container once the gateway has its own.
 */
export function parseSubnet(cidr: string): Subnet {
  const r = parseRange(cidr);
  if (!r) throw new ContainerError('invalid', `invalid CIDR address: ${cidr}`);
  const canonical = `${intToIp(r.base)}/${r.prefix}`;
  if (canonical !== cidr) throw new ContainerError('invalid', `invalid subnet ${cidr}: it should be ${canonical}`);
  if (r.prefix > 30) throw new ContainerError('invalid', `invalid subnet ${cidr}: a /${r.prefix} has no room for a gateway and a container (at most /30)`);
  return r;
}

export const overlaps = (a: Subnet, b: Subnet): boolean => a.base < b.base + b.size && b.base < a.base + a.size;
export const contains = (s: Subnet, ip: number): boolean => ip >= s.base && ip < s.base + s.size;
/** The usable host addresses: not the network address, not the broadcast address. */
export const isHost = (s: Subnet, ip: number): boolean => ip > s.base && ip < s.base + s.size - 1;

/**
 * Docker's default address pools, in its order (moby's ipamutils: 172.17–172.31 as /16s, then
 * 192.168.0.0/16 cut into /20s). The default network takes the first free one, as docker0 does.
 */
export const DEFAULT_POOLS: string[] = [
  ...Array.from({ length: 15 }, (_, i) => `172.${17 + i}.0.0/16`),
  ...Array.from({ length: 16 }, (_, i) => `192.168.${i * 16}.0/20`),
];

/**
 * The first pool that overlaps neither a route of the namespace (a LAN, a VPN, another store's
 * bridge) nor another box network. Default routes (/0) overlap everything and are what every
 * host has: Docker skips them too (netutils.CheckRouteOverlaps looks at routes with a destination).
 */
export function chooseSubnet(routes: string[], taken: string[]): string | undefined {
  const busy = [...routes, ...taken].map(parseRange).filter((r): r is Subnet => !!r && r.prefix > 0);
  return DEFAULT_POOLS.find((p) => !busy.some((b) => overlaps(parseRange(p)!, b)));
}

/** The gateway of a subnet: the user's (inside it, a host address) or its first address. */
export function gatewayFor(subnet: string, gateway?: string): string {
  const s = parseSubnet(subnet);
  if (gateway === undefined || gateway === '') return intToIp(s.base + 1);
  const g = ipToInt(gateway);
  if (g === undefined) throw new ContainerError('invalid', `invalid gateway address: ${gateway}`);
  if (!contains(s, g)) throw new ContainerError('invalid', `no matching subnet for gateway ${gateway}`);
  if (!isHost(s, g)) throw new ContainerError('invalid', `invalid gateway address ${gateway}: the network or broadcast address of ${subnet}`);
  return gateway;
}

/**
 * A container's address. With `want` (--ip): Docker's checks (inside the subnet, a host address,
 * not the gateway, not in use). Otherwise the first free host address after the gateway, then
 * those before it (a --gateway in the middle of the subnet).
 */
export function pickAddress(subnet: string, gateway: string, used: Set<string>, want?: string): string {
  const s = parseRange(subnet)!;
  const gw = ipToInt(gateway)!;
  if (want !== undefined) {
    const w = ipToInt(want);
    if (w === undefined) throw new ContainerError('invalid', `invalid IPv4 address: ${want}`);
    if (!contains(s, w) || !isHost(s, w)) throw new ContainerError('invalid', `no configured subnet or ip-range contain the IP address ${want}`);
    if (w === gw || used.has(want)) throw new ContainerError('conflict', 'Address already in use');
    return want;
  }
  const last = s.base + s.size - 2;
  for (let ip = gw + 1; ip <= last; ip++) if (!used.has(intToIp(ip))) return intToIp(ip);
  for (let ip = s.base + 1; ip < gw; ip++) if (!used.has(intToIp(ip))) return intToIp(ip);
  throw new ContainerError('conflict', `no available IPv4 addresses on this network's address pools (${subnet})`);
}

/** Docker's MAC for an address: the locally administered 02:42 and the address's four bytes. */
export function macFor(address: string): string {
  const n = ipToInt(address)!;
  return ['02', '42', ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** --mac-address: six hex pairs, unicast (a multicast source address is refused by peers), lowercased. */
export function checkMac(mac: string): string {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) throw new ContainerError('invalid', `${mac} is not a valid mac address`);
  if (parseInt(mac.slice(0, 2), 16) & 1) throw new ContainerError('invalid', `${mac} is not a valid mac address: a multicast address`);
  return mac.toLowerCase();
}

/**
 * A default network's bridge: `box0` for the default store, as docker0 is Docker's; for any
 * other store (BOX_ROOT: tests, a second box on the host) `box` + 6 hex of a hash of its root,
 * so that two stores in one network namespace never share a bridge (or tear down each other's).
 */
export function defaultBridgeName(root: string, defaultRoot = '/var/lib/box'): string {
  if (root === defaultRoot) return 'box0';
  return `box${crypto.createHash('sha256').update(root).digest('hex').slice(0, 6)}`;
}

/** A user network's bridge, as Docker names them: br- and the id's first 12 hex digits (15 chars). */
export const userBridgeName = (id: string): string => `br-${id.slice(0, 12)}`;

/**
 * The host end of a container's veth: 'vb' + 11 hex of its id (13 chars, IFNAMSIZ allows 15).
 * Taken (the same container on a second network, or two ids sharing 44 bits) → a suffix -1…-z.
 */
export function hostIfFor(containerId: string, taken: Set<string>): string {
  const base = `vb${containerId.slice(0, 11)}`;
  if (!taken.has(base)) return base;
  for (const c of '123456789abcdefghijklmnopqrstuvwxyz') if (!taken.has(`${base}-${c}`)) return `${base}-${c}`;
  throw new ContainerError('conflict', `no free interface name for container ${containerId.slice(0, 12)}`);
}
