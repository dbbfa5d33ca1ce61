// Docker-style default names ("adjective_scientist"), derived from the id so they are
// stable for a container and mostly unique; a clash falls back to the short id.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NAMES } from './paths';

const LEFT = ['admiring', 'bold', 'brave', 'clever', 'eager', 'focused', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'nifty', 'quirky', 'serene', 'sharp', 'tender', 'vibrant', 'zen'];
const RIGHT = ['babbage', 'curie', 'darwin', 'einstein', 'hopper', 'kepler', 'lovelace', 'meitner', 'noether', 'pasteur', 'ritchie', 'shannon', 'thompson', 'torvalds', 'turing', 'wozniak'];

export function randomName(id: string): string {
  const a = parseInt(id.slice(0, 4), 16), b = parseInt(id.slice(4, 8), 16);
  const name = `${LEFT[a % LEFT.length]}_${RIGHT[b % RIGHT.length]}`;
  return fs.existsSync(path.join(NAMES, name)) ? `${name}_${id.slice(0, 6)}` : name;
}
