// Addresses on box's networks (issue 17), allocated under the network's lock (store.ts
// withNetworkLock) and released at teardown; a SIGKILLed box's are collected by the next
// invocation (collectEndpoints).
//
// Storage: one small file per endpoint, NETWORKS/<id>/endpoints/<address>, holding the Endpoint
// and its container's id — rather than one JSON per network rewritten under the lock — because:
// the address's uniqueness is then the filesystem's own (the file is linked into place with
// link(2), which fails with EEXIST, so even a writer that skipped the lock could not hand out an
// address twice); an allocation or a release touches one small file, not the whole table (50
// containers starting at once rewrite nothing of each other's); and a crash mid-write can only
// leave a dotted temp file, never a half table that loses every other container's address.
// The files are not fsync'ed: a reboot ends every container anyway, and the next invocation
// collects their endpoints as dead (an empty or torn file counts as dead too).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerError } from '../container/errors';
import { endpointNames, endpointsDir, listNetworks, withNetworkLock } from './store';
import { checkMac, hostIfFor, macFor, parseRange, pickAddress } from './addr';
import type { Endpoint, Network } from './types';

export interface EndpointRecord extends Endpoint { containerId: string }

const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

function read(netId: string, name: string): EndpointRecord | undefined {
  try {
    const e = JSON.parse(fs.readFileSync(path.join(endpointsDir(netId), name), 'utf8'));
    return e && typeof e.containerId === 'string' && e.address === name ? e : undefined;
  } catch {
    return undefined;
  }
}

/** Every endpoint of a network: which container holds which address (network inspect, /etc/hosts). */
export function endpoints(net: Network): EndpointRecord[] {
  return endpointNames(net.id).map((n) => read(net.id, n)).filter((e): e is EndpointRecord => !!e);
}

/** The host ends of every veth box has handed out on any network of this store. */
const hostIfsInUse = () => new Set(listNetworks().flatMap((n) => endpoints(n).map((e) => e.hostIf)));

/** Create `file` with `data`, failing with EEXIST if it exists: a temp file linked into place (never a half-written file under the final name). */
function createExclusive(file: string, data: string) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(16).slice(2)}.tmp`);
  fs.writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * A container's place on `net`: the first free host address after the gateway, or `o.ip`
 * (--ip: inside the subnet and free, Docker's errors; refused on the default network as
 * Docker does); its MAC Docker's 02:42 + the address unless `o.mac`; the name of its veth's host
 * end. A container that already has an endpoint here gets it back (a restart after a crash).
 */
export function allocate(net: Network, containerId: string, o: { ip?: string; mac?: string } = {}): Endpoint {
  if (!CONTAINER_ID.test(containerId)) throw new ContainerError('invalid', `invalid container id ${JSON.stringify(containerId)}`);
  if (o.ip !== undefined && net.name === 'bridge') throw new ContainerError('invalid', 'user specified IP address is supported on user defined networks only');
  const mac = o.mac !== undefined ? checkMac(o.mac) : undefined;
  return withNetworkLock(net, () => {
    const now = endpoints(net);
    const mine = now.find((e) => e.containerId === containerId);
    if (mine) return strip(mine);
    const address = pickAddress(net.subnet, net.gateway, new Set(endpointNames(net.id)), o.ip);
    const ep: EndpointRecord = {
      containerId, network: net.name, networkId: net.id, address, prefix: parseRange(net.subnet)!.prefix,
      gateway: net.gateway, mac: mac ?? macFor(address), hostIf: hostIfFor(containerId, hostIfsInUse()), bridge: net.bridge,
    };
    try {
      createExclusive(path.join(endpointsDir(net.id), address), JSON.stringify(ep));
    } catch (e: any) {
      if (e.code === 'EEXIST') throw new ContainerError('conflict', 'Address already in use');
      throw e;
    }
    return strip(ep);
  });
}

const strip = ({ containerId, ...ep }: EndpointRecord): Endpoint => ep;

/**
 * The container's endpoints on `net` are gone. Returns how many endpoints remain on the network,
 * so that the caller removes what the network's last container needed (the masquerade rule).
 * A network removed meanwhile has none left.
 */
export function release(net: Network, containerId: string): number {
  try {
    return withNetworkLock(net, () => releaseLocked(net, (e) => e.containerId === containerId));
  } catch (e: any) {
    if (e?.code === 'not-found') return 0;
    throw e;
  }
}

/** Under the network's lock: remove the endpoint files `drop` picks (and unreadable ones, when `dropUnreadable`); the count left. */
function releaseLocked(net: Network, drop: (e: EndpointRecord) => boolean, dropUnreadable = false): number {
  let left = 0;
  for (const name of endpointNames(net.id)) {
    const e = read(net.id, name);
    if (e ? drop(e) : dropUnreadable) fs.rmSync(path.join(endpointsDir(net.id), name), { force: true });
    else left++;
  }
  return left;
}

export interface Collected { network: Network; endpoint: EndpointRecord; remaining: number }

/**
 * Endpoints of containers that are no longer alive (their box was SIGKILLed, or the host
 * rebooted) are released. Returned so that the caller removes what else they had: the veth
 * (hostIf; usually gone with the container's namespace already), its rules, and — when
 * `remaining` is 0 — the network's masquerade.
 *
 * `isLive` is asked outside any network lock (it may take container locks: never under ours,
 * so no lock-order cycle), then each endpoint is re-read under the lock and released only if it
 * is still that container's. It must answer true for a container from before its allocate()
 * until after its release() — a container being created must count as live — else its fresh
 * address would be collected from under it. Temp files of crashed writers and unreadable
 * endpoint files are removed too.
 */
export function collectEndpoints(isLive: (id: string) => boolean): Collected[] {
  const out: Collected[] = [];
  for (const net of listNetworks()) {
    const names = fs.existsSync(endpointsDir(net.id)) ? fs.readdirSync(endpointsDir(net.id)) : [];
    const dead = new Set(endpoints(net).filter((e) => !isLive(e.containerId)).map((e) => e.containerId));
    const litter = names.some((n) => n.startsWith('.') || !read(net.id, n));
    if (!dead.size && !litter) continue;
    try {
      withNetworkLock(net, () => {
        // no writer holds the lock now: a dotted temp file is a crashed one's
        for (const n of fs.readdirSync(endpointsDir(net.id))) if (n.startsWith('.')) fs.rmSync(path.join(endpointsDir(net.id), n), { force: true });
        const gone: EndpointRecord[] = [];
        releaseLocked(net, (e) => dead.has(e.containerId) && (gone.push(e), true), true);
        let remaining = endpointNames(net.id).length + gone.length;
        for (const endpoint of gone) out.push({ network: net, endpoint, remaining: --remaining });
      });
    } catch (e: any) {
      if (e?.code !== 'not-found') throw e;
    }
  }
  return out;
}
