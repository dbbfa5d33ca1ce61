// The first lines of the shipped ./box. Everything else in the file is one trailing
// comment holding base64 parts: box's code, koffi's native modules, the busybox rootfs.
// Kept out of the JavaScript V8 must parse, they cost a fast comment scan instead of a
// 2 MB parse; the code is compiled with a V8 code cache kept in the private cache
// directory, one per role (the CLI, the container stage), made on first use.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { cacheDirs, safeDir } from './cache';
import { writeFileAtomic } from '../util/atomic';

declare const BOX_MANIFEST: { codeHash: string; parts: Record<string, [number, number]> };
const MARKER = '\n/*BOX-PAYLOAD\n';

let text: string | undefined;
let base = 0;
function part(name: string): string {
  if (text === undefined) {
    text = fs.readFileSync(__filename, 'latin1');
    base = text.lastIndexOf(MARKER) + MARKER.length;
  }
  const [off, len] = BOX_MANIFEST.parts[name];
  return text.slice(base + off, base + off + len);
}
(globalThis as any).__boxPart = part;
(globalThis as any).__boxCodeHash = BOX_MANIFEST.codeHash; // keys caches of what this code computes (seccomp programs)

const role = process.argv[2] === '__init' ? 'init' : 'cli';
const dir = cacheDirs().find(safeDir);
const cacheFile = dir && path.join(dir, `code-${BOX_MANIFEST.codeHash.slice(0, 16)}-${role}.v8`);
let cachedData: Buffer | undefined;
try {
  if (cacheFile) cachedData = fs.readFileSync(cacheFile);
} catch { /* first run */ }

const code = Buffer.from(part('code'), 'base64').toString('utf8');
const script = new vm.Script(require('node:module').wrap(code), { filename: __filename, cachedData });

/** Save the code cache (with every function compiled so far) when there is none yet. */
function saveCodeCache() {
  if (!cacheFile || (cachedData && !script.cachedDataRejected)) return;
  try { writeFileAtomic(cacheFile, script.createCachedData(), 0o600); } catch { /* read-only: no cache */ }
  cachedData = Buffer.alloc(0);
}
(globalThis as any).__boxSaveCodeCache = saveCodeCache; // the stage calls it before execve
process.once('exit', saveCodeCache);

script.runInThisContext().call(module.exports, module.exports, require, module, __filename, path.dirname(__filename));
