// Docker-style default names ("adjective_scientist"), derived from the id so they are
// stable for a container and mostly unique; a clash falls back to the short id.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NAMES } from './paths';
import { BoxError } from '../libc/errors';
import { withContainerLock } from './lock';
import { load, update, reserveName, releaseName } from './store';

const LEFT = ['admiring', 'bold', 'brave', 'clever', 'eager', 'focused', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'nifty', 'quirky', 'serene', 'sharp', 'tender', 'vibrant', 'zen'];
const RIGHT = ['babbage', 'curie', 'darwin', 'einstein', 'hopper', 'kepler', 'lovelace', 'meitner', 'noether', 'pasteur', 'ritchie', 'shannon', 'thompson', 'torvalds', 'turing', 'wozniak'];

export function randomName(id: string): string {
  const a = parseInt(id.slice(0, 4), 16), b = parseInt(id.slice(4, 8), 16);
  const name = `${LEFT[a % LEFT.length]}_${RIGHT[b % RIGHT.length]}`;
  return fs.existsSync(path.join(NAMES, name)) ? `${name}_${id.slice(0, 6)}` : name;
}

/**
 * `box rename`: the container `id` is called `to` from now on. Under the container's lock (no
 * removal or record write in between): the new name is reserved first — creating its link is
 * atomic, so a name in use, or taken by a concurrent run, fails here with Docker's Conflict
 * and nothing changed — then the record says it, then the old name is released. A crash in
 * between leaves both names pointing at the container; collection drops names of removed ids.
 */
export function renameContainer(id: string, to: string): void {
  const done = withContainerLock(id, () => {
    const s = load(id);
    if (!s) return false;
    if (s.name === to) throw new BoxError('box rename: Renaming a container with the same name as its current name');
    reserveName(to, id);
    try {
      update(id, (now) => { now.name = to; now.spec.name = to; });
    } catch (e) {
      releaseName(to, id);
      throw e;
    }
    if (s.name) releaseName(s.name, id);
    return true;
  });
  if (!done) throw new BoxError(`box rename: No such container: ${id}`);
}
