// Named volumes, as Docker's "local" driver keeps them: <store>/volumes/NAME/_data, made on
// first use (or `box volume create`). A name is one path component by Docker's own rule
// ([a-zA-Z0-9][a-zA-Z0-9_.-]+: no slash, and never "." or ".."), so a volume's path cannot
// leave the volumes directory. The image's files are copied into a volume only by the create
// that first uses it (claimPopulate; lib/container/volume-copy.ts copies beside _data, where no
// container reaches, and swaps the copy in).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** node:crypto on first use: `box run`'s client parses -v with this file, and loading crypto costs it ms at every start. */
const randomHex = (bytes: number): string => (require('node:crypto') as typeof import('node:crypto')).randomBytes(bytes).toString('hex');
import { ROOT } from './paths';

export const VOLUMES = path.join(ROOT, 'volumes');
export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const UNUSED = 'unused'; // beside _data: present until the first container that mounts it claims it
const META = 'box.json';  // when it was made, whether it is anonymous

export interface VolumeInfo { name: string; mountpoint: string; createdAt: string; anonymous: boolean; labels: Record<string, string> }

export const validVolumeName = (name: string) => VOLUME_NAME_RE.test(name);
export function volumeDir(name: string): string {
  if (!validVolumeName(name)) throw new Error(`invalid volume name "${name}"`); // never a path out of VOLUMES
  return path.join(VOLUMES, name);
}
export const volumeData = (name: string) => path.join(volumeDir(name), '_data');
export const anonymousName = () => randomHex(32);

/** Make it unless it exists; true when this call made it. */
export function ensureVolume(name: string, opts: { anonymous?: boolean; labels?: Record<string, string> } = {}): boolean {
  const dir = volumeDir(name);
  fs.mkdirSync(VOLUMES, { recursive: true, mode: 0o700 });
  const tmp = path.join(VOLUMES, `.new-${name}-${process.pid}-${randomHex(4)}`);
  fs.mkdirSync(tmp, { mode: 0o701 });
  try {
    fs.mkdirSync(path.join(tmp, '_data'), { mode: 0o755 });
    fs.writeFileSync(path.join(tmp, UNUSED), '');
    fs.writeFileSync(path.join(tmp, META), JSON.stringify({ createdAt: new Date().toISOString(), anonymous: !!opts.anonymous, labels: opts.labels ?? {} }));
    fs.renameSync(tmp, dir); // atomic: two first uses at once make it once (the other gets ENOTEMPTY/EEXIST)
    return true;
  } catch (e: any) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (e.code === 'ENOTEMPTY' || e.code === 'EEXIST') return false;
    throw e;
  }
}

/** The first container to use the volume gets the image's files copied in: true for exactly one caller. */
export function claimPopulate(name: string): boolean {
  try { fs.unlinkSync(path.join(volumeDir(name), UNUSED)); return true; } catch { return false; }
}

export function volumeInfo(name: string): VolumeInfo | undefined {
  if (!validVolumeName(name)) return undefined;
  let meta: any = {};
  try { meta = JSON.parse(fs.readFileSync(path.join(volumeDir(name), META), 'utf8')); } catch (e: any) {
    if (!fs.existsSync(volumeData(name))) return undefined;
  }
  return { name, mountpoint: volumeData(name), createdAt: meta.createdAt ?? '', anonymous: !!meta.anonymous, labels: meta.labels ?? {} };
}

export function listVolumes(): VolumeInfo[] {
  let names: string[] = [];
  try { names = fs.readdirSync(VOLUMES); } catch { /* none yet */ }
  return names.filter(validVolumeName).sort().map(volumeInfo).filter((v): v is VolumeInfo => !!v);
}

/** Remove it and everything in it; the caller checked it is unused. Never follows a symlink (rmSync does not). */
export function removeVolume(name: string) {
  const dir = volumeDir(name);
  const gone = path.join(VOLUMES, `.rm-${name}-${process.pid}`);
  fs.renameSync(dir, gone); // out of sight at once, then deleted
  fs.rmSync(gone, { recursive: true, force: true });
}
