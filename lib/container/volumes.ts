// Named and anonymous volumes from a container's side: made (and claimed for the copy of the
// image's files) at create, found in use by records, anonymous ones removed with the container
// (--rm, rm -v) as Docker does. The volumes themselves: lib/state/volumes.ts.
import * as fs from 'node:fs';
import { list, ContainerState } from '../state/store';
import { ensureVolume, claimPopulate, removeVolume, volumeInfo, volumeDir } from '../state/volumes';
import { populateVolume } from './volume-copy';
import type { Volume } from '../options/types';

/**
 * Make what the volumes need: a missing host dir of a bind (Docker's -v), a volume on first
 * use, filled with the image's files at its path (`lower`: the image's layers, top first).
 */
export function prepareVolumes(volumes: Volume[], lower: string[]) {
  for (const v of volumes) {
    if (v.name === undefined) {
      // Docker's -v creates a missing host dir (an existing file is fine: binds a single file)
      if (!fs.existsSync(v.source)) fs.mkdirSync(v.source, { recursive: true });
      continue;
    }
    ensureVolume(v.name, { anonymous: v.anonymous });
    if (claimPopulate(v.name) && v.populate !== false) populateVolume(volumeDir(v.name), lower, v.target);
  }
}

/** The ids of the containers (any state, as Docker counts them) whose records name the volume. */
export function volumeUsers(name: string, except?: string): string[] {
  return list().filter((s) => s.id !== except && s.spec.volumes?.some((v) => v.name === name)).map((s) => s.id);
}

/** The container's anonymous volumes, unless another container uses one too. */
export function removeAnonymousVolumes(s: ContainerState) {
  for (const v of s.spec.volumes ?? []) {
    if (!v.anonymous || !v.name || !volumeInfo(v.name) || volumeUsers(v.name, s.id).length) continue;
    try { removeVolume(v.name); } catch { /* raced with another removal */ }
  }
}
