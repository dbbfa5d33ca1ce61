// The files procview serves: a fixed tree, laid out as lxcfs's (<mount>/proc/meminfo,
// <mount>/sys/devices/system/cpu/online) so a container's mount plan can bind each file over
// the real one. Node ids are fixed small numbers: a request naming any other id is answered
// ENOENT, and no name from a request is ever used as a path (LOOKUP looks it up in this table).
import type { Attr, Dirent } from './protocol';
import { S_IFDIR, S_IFREG } from './protocol';

export type FileKind = 'meminfo' | 'cpuinfo' | 'stat' | 'uptime' | 'loadavg' | 'swaps' | 'diskstats' | 'cpu-online';

export interface Node { ino: number; parent: number; name: string; file?: FileKind }

const NODES: Node[] = [
  { ino: 1, parent: 1, name: '' },
  { ino: 2, parent: 1, name: 'proc' },
  { ino: 3, parent: 2, name: 'meminfo', file: 'meminfo' },
  { ino: 4, parent: 2, name: 'cpuinfo', file: 'cpuinfo' },
  { ino: 5, parent: 2, name: 'stat', file: 'stat' },
  { ino: 6, parent: 2, name: 'uptime', file: 'uptime' },
  { ino: 7, parent: 2, name: 'loadavg', file: 'loadavg' },
  { ino: 8, parent: 2, name: 'swaps', file: 'swaps' },
  { ino: 9, parent: 2, name: 'diskstats', file: 'diskstats' },
  { ino: 10, parent: 1, name: 'sys' },
  { ino: 11, parent: 10, name: 'devices' },
  { ino: 12, parent: 11, name: 'system' },
  { ino: 13, parent: 12, name: 'cpu' },
  { ino: 14, parent: 13, name: 'online', file: 'cpu-online' },
];

/** The node with this id, or undefined (the id comes from the request: a u64 the kernel copied from our own answers, but checked all the same). */
export function node(id: bigint): Node | undefined {
  return id >= 1n && id <= BigInt(NODES.length) ? NODES[Number(id) - 1] : undefined;
}

export const isDir = (n: Node) => n.file === undefined;

export const children = (dir: Node): Node[] => NODES.filter((n) => n.parent === dir.ino && n.ino !== dir.ino);

export const lookup = (dir: Node, name: string): Node | undefined => children(dir).find((n) => n.name === name);

/** Read-only for everyone: files 0444, directories 0555 (mounted with default_permissions, so the kernel enforces them). */
export function attr(n: Node, mtime: number): Attr {
  return isDir(n)
    ? { ino: BigInt(n.ino), mode: S_IFDIR | 0o555, nlink: 2 + children(n).filter(isDir).length, mtime }
    : { ino: BigInt(n.ino), mode: S_IFREG | 0o444, nlink: 1, mtime };
}

export function listing(dir: Node): Dirent[] {
  return [
    { ino: BigInt(dir.ino), name: '.', dir: true },
    { ino: BigInt(dir.parent), name: '..', dir: true },
    ...children(dir).map((n) => ({ ino: BigInt(n.ino), name: n.name, dir: isDir(n) })),
  ];
}
