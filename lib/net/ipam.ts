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
// Beside them, NETWORKS/<id>/containers/<containerId> is a symlink to the address: allocate and
// release find a container's endpoint by one readlink instead of reading every file (measured:
// reading them all cost ~10 ms per allocation at 1,000 containers). The endpoint file is the
// truth; the index is written after it and removed before it, and a file the index misses (a
// crash in between) is still found by release's fallback scan and by collection.
// Nothing is fsync'ed: a reboot ends every container anyway, and the next invocation collects
// their endpoints as dead (an empty or torn file counts as dead too).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerError } from '../container/errors';
import { byContainerDir, endpointNames, endpointsDir, listNetworks, withNetworkLock } from './store';
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

/** The container's endpoint on a network through the index, checked against the endpoint file itself. */
function byContainer(netId: string, containerId: string): EndpointRecord | undefined {
  let address: string;
  try { address = fs.readlinkSync(path.join(byContainerDir(netId), containerId)); } catch { return undefined; }
  const e = read(netId, address);
  return e?.containerId === containerId ? e : undefined;
}

/** Every endpoint of a network: which container holds which address (network inspect, /etc/hosts). */
export function endpoints(net: Network): EndpointRecord[] {
  return endpointNames(net.id).map((n) => read(net.id, n)).filter((e): e is EndpointRecord => !!e);
}

/**
 * The veth names that could clash with this container's: its own on other networks, and those of
 * containers whose ids share the 11 hex digits (found by the index's names: no file read unless
 * one matches).
 */
function hostIfsNear(containerId: string): Set<string> {
  const stem = containerId.slice(0, 11);
  const out = new Set<string>();
  for (const n of listNetworks()) {
    let ids: string[] = [];
    try { ids = fs.readdirSync(byContainerDir(n.id)).filter((i) => i.startsWith(stem)); } catch { continue; }
    for (const id of ids) { const e = byContainer(n.id, id); if (e) out.add(e.hostIf); }
  }
  return out;
}

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

/** containers/<id> → address, replacing a stale link (a crash after a release's file removal). */
function index(netId: string, containerId: string, address: string) {
  const dir = byContainerDir(netId);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 }); // a record made before the index existed
  const link = path.join(dir, containerId);
  fs.rmSync(link, { force: true });
  fs.symlinkSync(address, link);
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
    const mine = byContainer(net.id, containerId);
    if (mine) return strip(mine);
    const address = pickAddress(net.subnet, net.gateway, new Set(endpointNames(net.id)), o.ip);
    const ep: EndpointRecord = {
      containerId, network: net.name, networkId: net.id, address, prefix: parseRange(net.subnet)!.prefix,
      gateway: net.gateway, mac: mac ?? macFor(address), hostIf: hostIfFor(containerId, hostIfsNear(containerId)), bridge: net.bridge,
    };
    try {
      createExclusive(path.join(endpointsDir(net.id), address), JSON.stringify(ep));
    } catch (e: any) {
      if (e.code === 'EEXIST') throw new ContainerError('conflict', 'Address already in use');
      throw e;
    }
    index(net.id, containerId, address);
    return strip(ep);
  });
}

const strip = ({ containerId, ...ep }: EndpointRecord): Endpoint => ep;

/** Under the network's lock: one endpoint gone, its index entry first. */
function drop(netId: string, e: EndpointRecord) {
  const link = path.join(byContainerDir(netId), e.containerId);
  try { if (fs.readlinkSync(link) === e.address) fs.rmSync(link, { force: true }); } catch { /* no index entry */ }
  fs.rmSync(path.join(endpointsDir(netId), e.address), { force: true });
}

/**
 * The container's endpoint on `net` is gone. Returns how many endpoints remain on the network,
 * so that the caller removes what the network's last container needed (the masquerade rule).
 * A network removed meanwhile has none left.
 */
export function release(net: Network, containerId: string): number {
  try {
    return withNetworkLock(net, () => {
      const e = byContainer(net.id, containerId);
      if (e) drop(net.id, e);
      else for (const x of endpoints(net)) if (x.containerId === containerId) drop(net.id, x); // the index missed it (a crash between file and link)
      fs.rmSync(path.join(byContainerDir(net.id), containerId), { force: true });
      return endpointNames(net.id).length;
    });
  } catch (e: any) {
    if (e?.code === 'not-found') return 0;
    throw e;
  }
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
 * address would be collected from under it. Crashed writers' temp files, unreadable endpoint
 * files and index entries pointing nowhere are removed too.
 */
export function collectEndpoints(isLive: (id: string) => boolean): Collected[] {
  const out: Collected[] = [];
  for (const net of listNetworks()) {
    const ls = (d: string) => { try { return fs.readdirSync(d); } catch { return []; } };
    const all = endpoints(net);
    const dead = new Set(all.filter((e) => !isLive(e.containerId)).map((e) => e.containerId));
    const litter = ls(endpointsDir(net.id)).length !== all.length || ls(byContainerDir(net.id)).length !== all.length;
    if (!dead.size && !litter) continue;
    try {
      withNetworkLock(net, () => {
        // no writer holds the lock now: a dotted temp file is a crashed one's, an unreadable file a torn one
        for (const n of ls(endpointsDir(net.id))) if (n.startsWith('.') || !read(net.id, n)) fs.rmSync(path.join(endpointsDir(net.id), n), { force: true });
        const gone = endpoints(net).filter((e) => dead.has(e.containerId));
        for (const e of gone) drop(net.id, e);
        for (const id of ls(byContainerDir(net.id))) if (!byContainer(net.id, id)) fs.rmSync(path.join(byContainerDir(net.id), id), { force: true });
        let remaining = endpointNames(net.id).length + gone.length;
        for (const endpoint of gone) out.push({ network: net, endpoint, remaining: --remaining });
      });
    } catch (e: any) {
      if (e?.code !== 'not-found') throw e;
    }
  }
  return out;
}
