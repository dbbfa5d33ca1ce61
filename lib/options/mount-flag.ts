// --mount type=bind|volume|tmpfs,source=…,target=…[,readonly][,…]: Docker's CSV syntax, onto
// the same Volume/Tmpfs entries as -v and --tmpfs. Unknown keys are refused, naming the key.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BoxError } from '../libc/errors';
import { parseBytes } from './resources';
import { parseTmpfs } from './run';
import type { Volume, Tmpfs } from './types';
import { validVolumeName, volumeData, anonymousName } from '../state/volumes';

const BOOL: Record<string, boolean> = { '': true, true: true, '1': true, false: false, '0': false };

export function parseMount(s: string): { volume?: Volume; tmpfs?: Tmpfs } {
  const bad = (why: string): never => { throw new BoxError(`box run: invalid argument "${s}" for "--mount" flag: ${why}`); };
  const f: Record<string, string> = {};
  for (const field of s.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase(), value = eq < 0 ? '' : field.slice(eq + 1);
    const alias: Record<string, string> = { src: 'source', dst: 'target', destination: 'target', ro: 'readonly' };
    const k = alias[key] ?? key;
    if (!['type', 'source', 'target', 'readonly', 'bind-propagation', 'volume-nocopy', 'tmpfs-size', 'tmpfs-mode', 'consistency'].includes(k)) bad(`unexpected key '${key}' in '${field}'`);
    if (eq < 0 && k !== 'readonly' && k !== 'volume-nocopy') bad(`invalid field '${field}' must be a key=value pair`);
    f[k] = value;
  }
  const type = f.type ?? 'volume';
  const flag = (k: string) => (f[k] === undefined ? false : BOOL[f[k].toLowerCase()] ?? bad(`invalid value for ${k}: ${f[k]}`));
  const readonly = flag('readonly');
  const target = f.target ?? bad('target is required');
  if (!target.startsWith('/')) bad(`invalid mount path: '${target}' mount path must be absolute`);
  if (path.posix.normalize(target) === '/') bad('invalid specification: destination can\'t be \'/\'');
  const only = (keys: string[]) => { for (const k of keys) if (f[k] !== undefined) bad(`cannot mix '${k}' options with '${type}' mount type`); };
  if (type === 'bind') {
    only(['volume-nocopy', 'tmpfs-size', 'tmpfs-mode']);
    const source = f.source || bad(`invalid mount config for type "bind": field Source must not be empty`);
    if (!source.startsWith('/')) bad(`invalid mount config for type "bind": invalid mount path: '${source}' mount path must be absolute`);
    // Docker's --mount never creates the host path (-v does)
    if (!fs.existsSync(source)) bad(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
    // box binds privately (the whole tree is made private before the binds): only that is offered
    if (f['bind-propagation'] !== undefined && !['private', 'rprivate'].includes(f['bind-propagation'])) bad(`bind-propagation ${f['bind-propagation']}: only private and rprivate are supported`);
    return { volume: { source: path.resolve(source), target: path.posix.normalize(target), readonly } };
  }
  if (type === 'volume') {
    only(['bind-propagation', 'tmpfs-size', 'tmpfs-mode']);
    const anonymous = !f.source;
    const name = f.source || anonymousName();
    if (!validVolumeName(name)) bad(`"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
    const v: Volume = { source: volumeData(name), target: path.posix.normalize(target), readonly, name };
    if (anonymous) v.anonymous = true;
    if (flag('volume-nocopy')) v.populate = false;
    return { volume: v };
  }
  if (type === 'tmpfs') {
    only(['bind-propagation', 'volume-nocopy', 'source']);
    const opts: string[] = [];
    if (f['tmpfs-size'] !== undefined) opts.push(`size=${parseBytes('--mount tmpfs-size', f['tmpfs-size'])}`);
    if (f['tmpfs-mode'] !== undefined) {
      if (!/^[0-7]{1,4}$/.test(f['tmpfs-mode'])) bad(`invalid value for tmpfs-mode: ${f['tmpfs-mode']}`);
      opts.push(`mode=${f['tmpfs-mode'].padStart(4, '0')}`);
    }
    if (readonly) opts.push('ro');
    return { tmpfs: parseTmpfs(`${target}${opts.length ? `:${opts.join(',')}` : ''}`) };
  }
  return bad(`invalid mount type: ${type}`);
}
