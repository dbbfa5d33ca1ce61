// A network's bridge link in the calling thread's network namespace, through rtnetlink only
// (issue 17: `ip` and `brctl` are not dependencies). ensureBridge is what every container start
// calls before it attaches a veth: idempotent, and safe when several box processes race to make
// the same bridge — whoever loses gets EEXIST for the link or the address, which means "done".
import { NetlinkSocket } from '../libc/netlink';
import { ContainerError } from '../container/errors';
import { createBridge, findLink, addAddress, setLinkUp, deleteLink, type Netlink } from './rtnetlink';
import { parseRange } from './addr';
import type { Network } from './types';

/** One socket for the operation, closed after; a caller that holds one passes it. */
function withSocket<T>(nl: Netlink | undefined, fn: (nl: Netlink) => T): T {
  if (nl) return fn(nl);
  const s = NetlinkSocket.open();
  try { return fn(s); } finally { s.close(); }
}

const ignore = (code: string, fn: () => void) => {
  try { fn(); } catch (e: any) { if (e?.code !== code) throw e; }
};

/**
 * The bridge exists, has the gateway with the subnet's prefix, and is up. A link of that name
 * that is not a bridge is someone else's: refused, never addressed or taken over.
 */
export function ensureBridge(net: Network, nl?: Netlink): void {
  withSocket(nl, (s) => {
    const prefix = parseRange(net.subnet)!.prefix;
    ignore('EEXIST', () => createBridge(s, net.bridge));
    const link = findLink(s, net.bridge);
    if (!link) throw new ContainerError('state', `network ${net.name}: its bridge ${net.bridge} was removed while it was being set up`);
    if (link.kind !== 'bridge') throw new ContainerError('conflict', `network ${net.name}: a link named ${net.bridge} exists and is not a bridge (${link.kind ?? 'no kind'}): box leaves it alone`);
    ignore('EEXIST', () => addAddress(s, link.index, `${net.gateway}/${prefix}`));
    if (!link.up) setLinkUp(s, link.index);
  });
}

/** The bridge is gone (with its address and route); absent already is fine; a non-bridge of that name is left alone. */
export function removeBridge(net: Network, nl?: Netlink): void {
  withSocket(nl, (s) => {
    const link = findLink(s, net.bridge);
    if (!link || link.kind !== 'bridge') return;
    ignore('ENODEV', () => deleteLink(s, net.bridge));
  });
}

/** The bridge's link, if it exists in this namespace (box info, inspect). */
export function bridgeExists(net: Network, nl?: Netlink): boolean {
  return withSocket(nl, (s) => findLink(s, net.bridge)?.kind === 'bridge');
}
