// Network records (issue 17): NETWORKS/<id>/network.json, one per network, and beside it the
// network's endpoints and their index by container (lib/net/ipam.ts). A record appears whole:
// its directory is filled under a temporary name and renamed into place. Names are unique
// because every create and remove runs under the store's 'networks' lock (creation is rare; the
// subnet overlap check needs the lock anyway). A network's own lock is a flock on its
// directory, as a container's: it goes with the directory, and a waiter that gets it after a
// removal finds no record.
//
// Lock order, always: 'networks' (store) → the network namespace's lock → a network's directory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import * as libc from '../libc';
import { NETWORKS, ROOT } from '../state/paths';
import { withLock } from '../state/lock';
import { writeFileAtomic } from '../util/atomic';
import { ContainerError } from '../container/errors';
import { NetlinkSocket } from '../libc/netlink';
import { listRoutes } from './rtnetlink';
import { chooseSubnet, defaultBridgeName, gatewayFor, overlaps, parseRange, parseSubnet, userBridgeName } from './addr';
import { ensureBridge, removeBridge } from './bridge';
import type { Network } from './types';

export const DEFAULT_NETWORK = 'bridge';
/** Docker's other predefined networks: `--network host|none` are modes, never records. */
const PREDEFINED = new Set(['bridge', 'host', 'none', 'default']);

export const networkDir = (id: string) => path.join(NETWORKS, id);
export const endpointsDir = (id: string) => path.join(NETWORKS, id, 'endpoints');
/** The index of endpoints by container: <containerId> → a symlink to its address (lib/net/ipam.ts). */
export const byContainerDir = (id: string) => path.join(NETWORKS, id, 'containers');
const recordFile = (id: string) => path.join(NETWORKS, id, 'network.json');

/** A record, trusted only if it names the directory it is in: its id goes into paths (locks, endpoints) and its bridge into netlink. */
function load(id: string): Network | undefined {
  try {
    const n = JSON.parse(fs.readFileSync(recordFile(id), 'utf8'));
    return n && n.id === id && typeof n.name === 'string' && typeof n.bridge === 'string' && parseRange(n.subnet) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Under the 'networks' lock no record is being made: a temporary directory is a crashed maker's. */
function sweepTemporary() {
  let names: string[] = [];
  try { names = fs.readdirSync(NETWORKS); } catch { return; }
  for (const n of names) if (/^\.[0-9a-f]{64}\.tmp$/.test(n)) fs.rmSync(path.join(NETWORKS, n), { recursive: true, force: true });
}

/** Every network of the store, by name. */
export function listNetworks(): Network[] {
  let ids: string[] = [];
  try { ids = fs.readdirSync(NETWORKS).filter((i) => /^[0-9a-f]{64}$/.test(i)); } catch { return []; }
  return ids.map(load).filter((n): n is Network => !!n).sort((a, b) => a.name.localeCompare(b.name));
}

const byName = (name: string) => listNetworks().find((n) => n.name === name);

/** A network by name, full id or unique id prefix (Docker's order). */
export function getNetwork(ref: string): Network {
  const all = listNetworks();
  const hit = all.find((n) => n.name === ref) ?? all.find((n) => n.id === ref);
  if (hit) return hit;
  const prefixed = ref ? all.filter((n) => n.id.startsWith(ref)) : [];
  if (prefixed.length === 1) return prefixed[0];
  if (prefixed.length > 1) throw new ContainerError('ambiguous', `network ${ref} is ambiguous (${prefixed.length} matches found based on ID)`);
  throw new ContainerError('not-found', `network ${ref} not found`);
}

/** The default network's record if it exists, without making it (box info). */
export const peekDefaultNetwork = (): Network | undefined => byName(DEFAULT_NETWORK);

// flock locks an open file, not a process: a nested lock of the same network in this process
// would wait for itself. fn is synchronous, so a nested call may go straight through.
const held = new Set<string>();

/**
 * A network's lock, around anything that reads and changes its endpoints. Throws not-found when
 * the network is gone (before or while waiting for the lock).
 */
export function withNetworkLock<T>(net: Network, fn: () => T): T {
  if (held.has(net.id)) return fn();
  const gone = () => new ContainerError('not-found', `network ${net.name} not found`);
  let fd: number;
  try {
    fd = fs.openSync(networkDir(net.id), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (e: any) {
    if (e.code === 'ENOENT') throw gone();
    throw e;
  }
  held.add(net.id);
  try {
    libc.flockExclusive(fd, networkDir(net.id));
    if (!fs.existsSync(recordFile(net.id))) throw gone();
    return fn();
  } finally {
    held.delete(net.id);
    fs.closeSync(fd);
  }
}

/** The endpoint files of a network (their names are the addresses); dotfiles are writes in progress. */
export function endpointNames(id: string): string[] {
  try { return fs.readdirSync(endpointsDir(id)).filter((f) => !f.startsWith('.')); } catch { return []; }
}

/**
 * Choosing a subnet and making its bridge, for the whole network namespace: two stores (BOX_ROOT)
 * can share one, and each sees the other's subnets only as routes — once its bridge has its
 * address. So the choice and the bridge happen under a lock every store takes: a flock on the
 * namespace's own nsfs inode (/proc/thread-self/ns/net: the thread's, which is the one netlink
 * acts in). It is exactly as wide as the namespace, leaves no file anywhere, and dies with its
 * holder. A process that shares the namespace (a --network host container's root) could hold it
 * forever: waited for with a deadline, never blocked on.
 */
const NS_LOCK_WAIT_MS = 30000;
function withNamespaceLock<T>(fn: () => T): T {
  const file = '/proc/thread-self/ns/net';
  const fd = fs.openSync(file, fs.constants.O_RDONLY);
  try {
    const end = Date.now() + NS_LOCK_WAIT_MS;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (!libc.tryFlockExclusive(fd, file)) {
      if (Date.now() > end) throw new ContainerError('timeout', `another process has held this network namespace's lock (${file}) for ${NS_LOCK_WAIT_MS / 1000} s: no network made`);
      Atomics.wait(nap, 0, 0, 20);
    }
    return fn();
  } finally {
    fs.closeSync(fd);
  }
}

function routesHere(): string[] {
  const nl = NetlinkSocket.open();
  try { return listRoutes(nl).map((r) => r.dst); } finally { nl.close(); }
}

/**
 * Write the record (whole, under a temporary name, then renamed into place) and make its bridge.
 * A bridge that cannot be made takes the record with it: nothing is left behind.
 */
function make(net: Network): Network {
  fs.mkdirSync(NETWORKS, { recursive: true, mode: 0o700 });
  sweepTemporary();
  const tmp = path.join(NETWORKS, `.${net.id}.tmp`);
  fs.mkdirSync(tmp, { mode: 0o700 });
  try {
    fs.mkdirSync(path.join(tmp, 'endpoints'), { mode: 0o700 });
    fs.mkdirSync(path.join(tmp, 'containers'), { mode: 0o700 });
    writeFileAtomic(path.join(tmp, 'network.json'), JSON.stringify(net, null, 1));
    fs.renameSync(tmp, networkDir(net.id));
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  try {
    ensureBridge(net);
  } catch (e) {
    fs.rmSync(networkDir(net.id), { recursive: true, force: true });
    throw e;
  }
  return net;
}

const newNetwork = (name: string, bridge: (id: string) => string, subnet: string, gateway: string, labels?: Record<string, string>): Network => {
  const id = crypto.randomBytes(32).toString('hex');
  return { id, name, driver: 'bridge', bridge: bridge(id), subnet, gateway, created: new Date().toISOString(), ...(labels && Object.keys(labels).length ? { labels } : {}) };
};

/**
 * The network named "bridge", made (record and bridge link) by the first box that needs it:
 * box0 on the default store, box + 6 hex of the store's root on another; its subnet the first
 * of Docker's pools that overlaps no route here and no other box network.
 */
export function defaultNetwork(): Network {
  return byName(DEFAULT_NETWORK) ?? withLock('networks', () => byName(DEFAULT_NETWORK) ?? withNamespaceLock(() => {
    const subnet = chooseSubnet(routesHere(), listNetworks().map((n) => n.subnet));
    if (!subnet) throw new ContainerError('conflict', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
    return make(newNetwork(DEFAULT_NETWORK, () => defaultBridgeName(ROOT), subnet, gatewayFor(subnet)));
  }));
}

/** What the default network would be if it were made now (box info, without making it). */
export function wouldBeDefault(): { bridge: string; subnet?: string } {
  let subnet: string | undefined;
  try { subnet = chooseSubnet(routesHere(), listNetworks().map((n) => n.subnet)); } catch { /* no netlink: unknown */ }
  return { bridge: defaultBridgeName(ROOT), subnet };
}

/** A network name: safe in a path, a log line and /etc/hosts; Docker's own names are reserved. */
export function checkNetworkName(name: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(name)) throw new ContainerError('invalid', `invalid network name ${JSON.stringify(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at most 128)`);
  return name;
}

/** `box network create`: Docker's checks and words; the bridge link exists when it returns. */
export function createNetwork(o: { name: string; subnet?: string; gateway?: string; labels?: Record<string, string> }): Network {
  checkNetworkName(o.name);
  if (PREDEFINED.has(o.name) && o.name !== DEFAULT_NETWORK) throw new ContainerError('invalid', `operation is not permitted on predefined ${o.name} network`);
  if (o.gateway && !o.subnet) throw new ContainerError('invalid', 'every ip-range or gateway must have a corresponding subnet');
  const given = o.subnet ? parseSubnet(o.subnet) : undefined;
  const gateway = o.subnet ? gatewayFor(o.subnet, o.gateway) : undefined; // checked before any lock
  // the default network first, as docker0 exists before any user network: it gets the first free pool
  if (o.name !== DEFAULT_NETWORK) defaultNetwork();
  return withLock('networks', () => {
    const all = listNetworks();
    if (o.name === DEFAULT_NETWORK || all.some((n) => n.name === o.name)) throw new ContainerError('conflict', `network with name ${o.name} already exists`);
    if (given && all.some((n) => overlaps(given, parseRange(n.subnet)!))) throw new ContainerError('conflict', 'Pool overlaps with other one on this address space');
    return withNamespaceLock(() => {
      const subnet = o.subnet ?? chooseSubnet(routesHere(), all.map((n) => n.subnet));
      if (!subnet) throw new ContainerError('conflict', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
      return make(newNetwork(o.name, userBridgeName, subnet, gateway ?? gatewayFor(subnet), o.labels));
    });
  });
}

/**
 * `box network rm`: refused for the default network and while containers are attached (Docker's
 * words); the bridge link goes first, then the record — a crash in between leaves a record whose
 * bridge ensureBridge makes again, never a bridge without a record.
 */
export function removeNetwork(ref: string): Network {
  const net = getNetwork(ref);
  if (net.name === DEFAULT_NETWORK) throw new ContainerError('state', `${DEFAULT_NETWORK} is a pre-defined network and cannot be removed`);
  return withLock('networks', () => withNetworkLock(net, () => {
    if (endpointNames(net.id).length) throw new ContainerError('conflict', `error while removing network: network ${net.name} id ${net.id} has active endpoints`);
    removeBridge(net);
    fs.rmSync(recordFile(net.id), { force: true });
    fs.rmSync(networkDir(net.id), { recursive: true, force: true });
    return net;
  }));
}
