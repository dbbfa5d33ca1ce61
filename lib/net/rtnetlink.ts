// rtnetlink messages and the operations box's networking (issue 17) is built from: a bridge,
// veth pairs, links up, masters, a link moved into a container's namespace, IPv4 addresses, a
// default route, deletion and listing. The builders are pure (bytes out, unit-tested byte for
// byte); the operations take anything with `request` (lib/libc/netlink.ts's NetlinkSocket, or a
// fake). Layouts are the kernel's uapi (linux/netlink.h, rtnetlink.h, if_link.h), little-endian.
import { BoxError } from '../libc/errors';
import { NLMSG_HDRLEN, type NlMsg } from '../libc/netlink';

export const RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_NEWADDR = 20, RTM_DELADDR = 21, RTM_GETADDR = 22, RTM_NEWROUTE = 24, RTM_GETROUTE = 26;
export const NLM_F_REQUEST = 0x1, NLM_F_ACK = 0x4, NLM_F_DUMP = 0x300, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400;
export const IFLA_ADDRESS = 1, IFLA_IFNAME = 3, IFLA_MASTER = 10, IFLA_OPERSTATE = 16, IFLA_LINKINFO = 18, IFLA_NET_NS_FD = 28;
export const IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2, VETH_INFO_PEER = 1;
export const IFA_ADDRESS = 1, IFA_LOCAL = 2, RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_TABLE = 15;
const AF_UNSPEC = 0, AF_INET = 2, IFF_UP = 0x1;
const RT_TABLE_MAIN = 254, RTPROT_BOOT = 3, RT_SCOPE_UNIVERSE = 0, RTN_UNICAST = 1;
/** The top bits of rta_type are flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER), not the type. */
const NLA_TYPE_MASK = 0x3fff;

export const align4 = (n: number): number => (n + 3) & ~3;
const pad = (b: Buffer): Buffer => b.length % 4 ? Buffer.concat([b, Buffer.alloc(align4(b.length) - b.length)]) : b;

/** struct nlmsghdr + body. The sequence number is left 0: the socket writes its own. */
export function nlmsg(type: number, flags: number, body: Buffer[]): Buffer {
  const payload = Buffer.concat(body.map(pad));
  const h = Buffer.alloc(NLMSG_HDRLEN);
  h.writeUInt32LE(NLMSG_HDRLEN + payload.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags | NLM_F_REQUEST, 6);
  return Buffer.concat([h, payload]);
}

/**
 * struct rtattr { u16 len; u16 type } + data, padded to 4 bytes. rta_len counts the header
 * and the data but not the padding: the kernel (and our parser) step by align4(len).
 */
export function rtattr(type: number, data: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16LE(4 + data.length, 0);
  h.writeUInt16LE(type, 2);
  return pad(Buffer.concat([h, data]));
}
/** An attribute holding attributes. No NLA_F_NESTED bit: iproute2 sends none for IFLA_LINKINFO and every kernel accepts that. */
export const nest = (type: number, attrs: Buffer[]): Buffer => rtattr(type, Buffer.concat(attrs));
export const strz = (s: string): Buffer => Buffer.from(s + '\0');
export const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0, 0); return b; };

/** struct ifinfomsg (16 bytes): family, pad, type, index, flags, change. */
export function ifinfomsg(index = 0, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

/** struct ifaddrmsg (8 bytes): family, prefixlen, flags, scope, index. */
export function ifaddrmsg(prefixlen: number, index: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(AF_INET, 0);
  b.writeUInt8(prefixlen, 1);
  b.writeUInt8(RT_SCOPE_UNIVERSE, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

/** struct rtmsg (12 bytes) for an IPv4 unicast route of the main table. */
export function rtmsg(dstLen: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(AF_INET, 0);
  b.writeUInt8(dstLen, 1);
  b.writeUInt8(RT_TABLE_MAIN, 4);
  b.writeUInt8(RTPROT_BOOT, 5);
  b.writeUInt8(RT_SCOPE_UNIVERSE, 6);
  b.writeUInt8(RTN_UNICAST, 7);
  return b;
}

/** The attributes in `buf` from `off`: type → data (the last one wins). Every length is checked against what is left. */
export function parseAttrs(buf: Buffer, off = 0): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  while (buf.length - off >= 4) {
    const len = buf.readUInt16LE(off), type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (len < 4 || len > buf.length - off) throw new BoxError(`netlink: malformed attribute (length ${len} at ${off} of ${buf.length})`);
    out.set(type, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

/**
 * An interface name as the kernel takes it (IFNAMSIZ 16 with the NUL: 15 bytes), limited to
 * [a-zA-Z0-9_.-] so that it is safe in a path (/sys/class/net/NAME) and in a log line.
 */
export function checkIfName(name: string): string {
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(name) || name === '.' || name === '..')
    throw new BoxError(`invalid interface name ${JSON.stringify(name)}: 1 to 15 of [a-zA-Z0-9_.-]`);
  return name;
}

/** An IPv4 "A.B.C.D/N" → its 4 bytes and prefix length. */
export function parseCidr(cidr: string): { addr: Buffer; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const parts = m ? m.slice(1, 5).map(Number) : [];
  if (!m || parts.some((p) => p > 255) || Number(m[5]) > 32) throw new BoxError(`invalid IPv4 address ${JSON.stringify(cidr)}: expected A.B.C.D/N`);
  return { addr: Buffer.from(parts), prefix: Number(m[5]) };
}

export interface Netlink { request(msg: Buffer, op: string): NlMsg[] }
type Link = string | number;

const CREATE = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
/** A link by index, or by name through IFLA_IFNAME with index 0 (RTM_NEWLINK/DELLINK look it up by name then). */
const linkRef = (link: Link, flags = 0, change = 0): Buffer[] =>
  typeof link === 'number' ? [ifinfomsg(link, flags, change)] : [ifinfomsg(0, flags, change), rtattr(IFLA_IFNAME, strz(checkIfName(link)))];
const linkName = (link: Link) => typeof link === 'number' ? `#${link}` : link;

/** The kind of a new link lives nested in IFLA_LINKINFO: IFLA_INFO_KIND picks the driver, IFLA_INFO_DATA holds that driver's own attributes. */
export const createBridgeMsg = (name: string): Buffer =>
  nlmsg(RTM_NEWLINK, CREATE, [ifinfomsg(), rtattr(IFLA_IFNAME, strz(checkIfName(name))), nest(IFLA_LINKINFO, [rtattr(IFLA_INFO_KIND, strz('bridge'))])]);

/** veth's peer is described as a whole link of its own (ifinfomsg + attributes) inside VETH_INFO_PEER. */
export const createVethMsg = (host: string, peer: string): Buffer =>
  nlmsg(RTM_NEWLINK, CREATE, [ifinfomsg(), rtattr(IFLA_IFNAME, strz(checkIfName(host))), nest(IFLA_LINKINFO, [
    rtattr(IFLA_INFO_KIND, strz('veth')),
    nest(IFLA_INFO_DATA, [nest(VETH_INFO_PEER, [ifinfomsg(), rtattr(IFLA_IFNAME, strz(checkIfName(peer)))])]),
  ])]);

export const createBridge = (nl: Netlink, name: string): void => void nl.request(createBridgeMsg(name), `create bridge ${name}`);
export const createVethPair = (nl: Netlink, host: string, peer: string): void => void nl.request(createVethMsg(host, peer), `create veth ${host}/${peer}`);

/** IFF_UP in both flags and change: only that bit is changed. */
export const setLinkUp = (nl: Netlink, link: Link): void =>
  void nl.request(nlmsg(RTM_NEWLINK, NLM_F_ACK, linkRef(link, IFF_UP, IFF_UP)), `set ${linkName(link)} up`);

export function setMaster(nl: Netlink, link: Link, bridge: Link): void {
  const master = typeof bridge === 'number' ? bridge : linkIndex(nl, bridge);
  nl.request(nlmsg(RTM_NEWLINK, NLM_F_ACK, [...linkRef(link), rtattr(IFLA_MASTER, u32(master))]), `set master of ${linkName(link)} to ${linkName(bridge)}`);
}

/** Move a link into the network namespace open as `nsFd` (IFLA_NET_NS_FD: an fd, not a pid, so no pid can be recycled under us). */
export const moveToNetns = (nl: Netlink, link: Link, nsFd: number): void =>
  void nl.request(nlmsg(RTM_NEWLINK, NLM_F_ACK, [...linkRef(link), rtattr(IFLA_NET_NS_FD, u32(nsFd))]), `move ${linkName(link)} to netns`);

/** IFA_LOCAL is the address itself; IFA_ADDRESS the peer's on a point-to-point link, the same here (as `ip addr add` sends). */
export function addAddress(nl: Netlink, link: Link, cidr: string): void {
  const { addr, prefix } = parseCidr(cidr);
  const index = typeof link === 'number' ? link : linkIndex(nl, link);
  nl.request(nlmsg(RTM_NEWADDR, CREATE, [ifaddrmsg(prefix, index), rtattr(IFA_LOCAL, addr), rtattr(IFA_ADDRESS, addr)]), `add address ${cidr} to ${linkName(link)}`);
}

export function addDefaultRoute(nl: Netlink, gateway: string): void {
  const { addr } = parseCidr(`${gateway}/32`);
  nl.request(nlmsg(RTM_NEWROUTE, CREATE, [rtmsg(0), rtattr(RTA_GATEWAY, addr)]), `add default route via ${gateway}`);
}

export const deleteLink = (nl: Netlink, name: string): void =>
  void nl.request(nlmsg(RTM_DELLINK, NLM_F_ACK, linkRef(name)), `delete link ${name}`);

export interface LinkInfo { index: number; name: string; up: boolean; master?: number; kind?: string }

/** An RTM_NEWLINK reply → what box needs of it. */
export function parseLink(m: NlMsg): LinkInfo {
  if (m.payload.length < 16) throw new BoxError(`netlink: malformed link message (${m.payload.length} bytes)`);
  const attrs = parseAttrs(m.payload, 16);
  const cstr = (b?: Buffer) => b ? b.toString('latin1').replace(/\0[\s\S]*$/, '') : undefined;
  const info = attrs.get(IFLA_LINKINFO);
  const master = attrs.get(IFLA_MASTER);
  return {
    index: m.payload.readInt32LE(4),
    name: cstr(attrs.get(IFLA_IFNAME)) ?? '',
    up: (m.payload.readUInt32LE(8) & IFF_UP) !== 0,
    master: master && master.length >= 4 ? master.readUInt32LE(0) : undefined,
    kind: info ? cstr(parseAttrs(info).get(IFLA_INFO_KIND)) : undefined,
  };
}

/** RTM_GETLINK by name: the kernel answers one RTM_NEWLINK, then the ACK we asked for. */
export function linkIndex(nl: Netlink, name: string): number {
  const msgs = nl.request(nlmsg(RTM_GETLINK, NLM_F_ACK, linkRef(name)), `find link ${name}`).filter((m) => m.type === RTM_NEWLINK);
  if (msgs.length !== 1) throw new BoxError(`netlink: find link ${name}: ${msgs.length} answers`);
  return parseLink(msgs[0]).index;
}

/**
 * Every link of the namespace. A dump spans several datagrams, each message flagged
 * NLM_F_MULTI; only NLMSG_DONE says it is complete (the kernel sends no ACK for a dump).
 */
export const listLinks = (nl: Netlink): LinkInfo[] =>
  nl.request(nlmsg(RTM_GETLINK, NLM_F_DUMP, [ifinfomsg()]), 'list links').filter((m) => m.type === RTM_NEWLINK).map(parseLink);

/** Every IPv4 address of the namespace as "A.B.C.D/N" with its link's index. */
export function listAddresses(nl: Netlink): { index: number; cidr: string }[] {
  const req = Buffer.alloc(8);
  req.writeUInt8(AF_INET, 0);
  return nl.request(nlmsg(RTM_GETADDR, NLM_F_DUMP, [req]), 'list addresses').filter((m) => m.type === RTM_NEWADDR && m.payload.length >= 8).flatMap((m) => {
    const a = parseAttrs(m.payload, 8).get(IFA_LOCAL);
    return a && a.length === 4 ? [{ index: m.payload.readUInt32LE(4), cidr: `${[...a].join('.')}/${m.payload.readUInt8(1)}` }] : [];
  });
}

/** IFA_LOCAL and the prefix name the address; the kernel finds it on that link. No ACK means nothing to delete: ENOENT/EADDRNOTAVAIL come back as errors. */
export function deleteAddress(nl: Netlink, link: Link, cidr: string): void {
  const { addr, prefix } = parseCidr(cidr);
  const index = typeof link === 'number' ? link : linkIndex(nl, link);
  nl.request(nlmsg(RTM_DELADDR, NLM_F_ACK, [ifaddrmsg(prefix, index), rtattr(IFA_LOCAL, addr), rtattr(IFA_ADDRESS, addr)]), `delete address ${cidr} from ${linkName(link)}`);
}

/** A link by name, or undefined when the namespace has none (ENODEV): what ensureBridge checks before trusting a name. */
export function findLink(nl: Netlink, name: string): LinkInfo | undefined {
  try {
    const msgs = nl.request(nlmsg(RTM_GETLINK, NLM_F_ACK, linkRef(name)), `find link ${name}`).filter((m) => m.type === RTM_NEWLINK);
    if (msgs.length !== 1) throw new BoxError(`netlink: find link ${name}: ${msgs.length} answers`);
    return parseLink(msgs[0]);
  } catch (e: any) {
    if (e?.code === 'ENODEV') return undefined;
    throw e;
  }
}

export interface RouteInfo { dst: string; oif?: number; gateway?: string }

/** An RTM_NEWROUTE of a dump → its destination (0.0.0.0/0 for a default route), output link and gateway; undefined unless IPv4 of the main table. */
export function parseRoute(m: NlMsg): RouteInfo | undefined {
  if (m.payload.length < 12) throw new BoxError(`netlink: malformed route message (${m.payload.length} bytes)`);
  if (m.payload.readUInt8(0) !== AF_INET) return undefined;
  const attrs = parseAttrs(m.payload, 12);
  // rtm_table is 8 bits; tables above 255 are only in RTA_TABLE, which wins when present
  const table = attrs.get(RTA_TABLE)?.length === 4 ? attrs.get(RTA_TABLE)!.readUInt32LE(0) : m.payload.readUInt8(4);
  if (table !== RT_TABLE_MAIN) return undefined;
  const ip = (b?: Buffer) => b && b.length === 4 ? [...b].join('.') : undefined;
  const dstLen = m.payload.readUInt8(1);
  if (dstLen > 32) throw new BoxError(`netlink: malformed route message (prefix length ${dstLen})`);
  const oif = attrs.get(RTA_OIF);
  return {
    dst: `${ip(attrs.get(RTA_DST)) ?? '0.0.0.0'}/${dstLen}`,
    oif: oif && oif.length === 4 ? oif.readUInt32LE(0) : undefined,
    gateway: ip(attrs.get(RTA_GATEWAY)),
  };
}

/**
 * The IPv4 routes of the main table (what `ip route` shows): a dump of RTM_GETROUTE. The kernel
 * ignores rtm_table in a dump request unless strict checking is on, so the table is filtered here.
 * What box reads it for: a new network's subnet must not overlap a route of this namespace.
 */
export function listRoutes(nl: Netlink): RouteInfo[] {
  const req = Buffer.alloc(12);
  req.writeUInt8(AF_INET, 0);
  return nl.request(nlmsg(RTM_GETROUTE, NLM_F_DUMP, [req]), 'list routes').filter((m) => m.type === RTM_NEWROUTE).flatMap((m) => parseRoute(m) ?? []);
}
