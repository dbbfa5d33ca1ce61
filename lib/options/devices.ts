// --device HOST[:CONTAINER][:PERMS] as Docker parses it (opts.ParseDevice / ValidateDevice):
// the host path is resolved on the host (symlinks followed, as Docker's EvalSymlinks) and must
// be a character or block device; the container gets a new node with the same type, numbers,
// mode and owner (mknod, never a bind of the host file), and the devices cgroup allows that one
// device with PERMS (rwm by default) on top of Docker's default list — nothing wider.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BoxError } from '../libc/errors';
import { DEFAULT_DEVICE_RULES } from '../cgroup/files';
import type { Device, ContainerSpec } from './types';

const validMode = (m: string) => m.length > 0 && m.length <= 3 && /^[rwm]+$/.test(m) && new Set(m).size === m.length;

/**
 * --device DIR (Docker's rule): every device node below it (symlinks not followed), each at
 * CONTAINER + its path below DIR; a plain --device gives one.
 */
export function parseDevices(s: string): Device[] {
  const [source] = s.split(':');
  let st: fs.Stats | undefined;
  try { st = fs.statSync(source); } catch { /* parseDevice says so */ }
  if (!st?.isDirectory()) return [parseDevice(s)];
  const one = parseDevice(s, () => ({ isCharacterDevice: () => true, isBlockDevice: () => false, rdev: 0, mode: 0, uid: 0, gid: 0 } as unknown as fs.Stats)); // the syntax, the target and the permissions
  const out: Device[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name), l = fs.lstatSync(p);
      if (l.isDirectory()) walk(p, path.posix.join(rel, name));
      else if (l.isCharacterDevice() || l.isBlockDevice()) out.push(parseDevice(`${p}:${path.posix.join(one.target, rel, name)}:${one.permissions}`, () => l));
    }
  };
  walk(fs.realpathSync(source), '');
  return out;
}

export function parseDevice(s: string, stat: (p: string) => fs.Stats = (p) => fs.statSync(p)): Device {
  const bad = (why: string): never => { throw new BoxError(`box run: invalid argument "${s}" for "--device" flag: ${why}`); };
  const parts = s.split(':');
  let [source, target, permissions] = [parts[0], '', 'rwm'];
  if (parts.length === 3) {
    target = parts[1];
    if (!validMode(parts[2])) bad(`bad mode specified: ${parts[2]}`);
    permissions = parts[2];
  } else if (parts.length === 2) {
    if (validMode(parts[1])) permissions = parts[1];
    else target = parts[1];
  } else if (parts.length !== 1) bad(`invalid device specification: ${s}`);
  if (!source.startsWith('/')) bad(`${source} is not an absolute path`);
  target ||= source;
  if (!target.startsWith('/')) bad(`${target} is not an absolute path`);
  target = path.posix.normalize(target);
  if (target === '/' ) bad(`${target} is not a valid device path`);
  let st: fs.Stats;
  const gather = (why: string): never => { throw new BoxError(`box run: error gathering device information while adding custom device "${source}": ${why}`); };
  try { st = stat(source); } catch (e: any) { return gather(e.code === 'ENOENT' ? 'no such file or directory' : e.code ?? e.message); }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) gather('not a device node');
  // glibc's gnu_dev_major/minor (dev_t is 64 bits: BigInt, JavaScript's bit operators are 32)
  const dev = BigInt(st.rdev);
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { source, target, type: st.isBlockDevice() ? 'b' : 'c', major, minor, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, permissions };
}

/** The device cgroup's allow-list: Docker's defaults, then each --device with its own permissions (nothing for none asked). */
export function deviceRules(spec: Pick<ContainerSpec, 'devices'>): string[] | undefined {
  if (!spec.devices?.length) return undefined;
  return [...DEFAULT_DEVICE_RULES, ...spec.devices.map((d) => `${d.type} ${d.major}:${d.minor} ${d.permissions}`)];
}
