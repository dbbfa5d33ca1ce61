// Loads koffi's native module. In the bundle the .node file is embedded (brotli, base64)
// and extracted once to a content-hash-named file; in development it comes from
// node_modules. We skip koffi's JS wrapper: the native module alone is the whole API.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { embedded } from '../embedded';
import { cacheDirs, safeDir } from '../bundle/cache';
import { writeFileAtomic } from '../util/atomic';

export type Koffi = any;

let cached: Koffi | undefined;
const KOFFI = Symbol.for('box.koffi');

export function koffi(): Koffi {
  if (cached) return cached;
  // box run's small part (lib/cli/run-fast.ts) and box's code are separate bundles with a copy
  // of this module each: one koffi for both (its types and libraries are per instance)
  const shared = (globalThis as any)[KOFFI];
  if (shared) return (cached = shared);
  const arch = process.arch;
  if (arch !== 'x64' && arch !== 'arm64') throw new Error(`unsupported architecture ${arch}: box embeds koffi for x64 and arm64`);
  const blob = embedded()?.koffi[arch];
  cached = blob ? loadEmbedded(blob) : loadFromNodeModules(arch);
  (globalThis as any)[KOFFI] = cached;
  return cached;
}

function loadFromNodeModules(arch: string): Koffi {
  const pkg = path.dirname(require.resolve(`@koromix/koffi-linux-${arch}/package.json`));
  return dlopen(path.join(pkg, `linux_${arch}`, 'koffi.node'));
}

function dlopen(file: string): Koffi {
  const m = { exports: {} as Koffi };
  process.dlopen(m, file, os.constants.dlopen.RTLD_NOW);
  return m.exports;
}

function loadEmbedded(blob: { sha256: string; data: () => string }): Koffi {
  const errors: string[] = [];
  for (const dir of cacheDirs()) {
    if (!safeDir(dir)) { errors.push(`${dir}: not a private directory`); continue; }
    const file = path.join(dir, `koffi-${blob.sha256.slice(0, 32)}.node`);
    try {
      if (!fs.existsSync(file)) writeVerified(file, blob);
      return dlopen(file);
    } catch (e: any) {
      errors.push(`${dir}: ${e.message}`); // e.g. "failed to map segment" on a noexec mount: try the next one
    }
  }
  throw new Error(`cannot load the embedded koffi module (${errors.join('; ')})`);
}

/** Decompress, check the sha256 the build recorded, then write atomically. */
function writeVerified(file: string, blob: { sha256: string; data: () => string }) {
  // required here, not at the top: every box process loads koffi, only the first extracts it (crypto + zlib: ~5 ms of start-up)
  const zlib: typeof import('node:zlib') = require('node:zlib');
  const crypto: typeof import('node:crypto') = require('node:crypto');
  const bytes = zlib.brotliDecompressSync(Buffer.from(blob.data(), 'base64'));
  const got = crypto.createHash('sha256').update(bytes).digest('hex');
  if (got !== blob.sha256) throw new Error(`embedded koffi module is corrupt (sha256 ${got})`);
  writeFileAtomic(file, bytes, 0o500);
}
