// Loads koffi's native module. In the bundle the .node file is embedded (brotli, base64)
// and extracted once to a content-hash-named file; in development it comes from
// node_modules. We skip koffi's JS wrapper: the native module alone is the whole API.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import { embedded } from '../embedded';

export type Koffi = any;

let cached: Koffi | undefined;

export function koffi(): Koffi {
  if (cached) return cached;
  const arch = process.arch;
  if (arch !== 'x64' && arch !== 'arm64') throw new Error(`unsupported architecture ${arch}: box embeds koffi for x64 and arm64`);
  const blob = embedded()?.koffi[arch];
  cached = blob ? loadEmbedded(blob) : loadFromNodeModules(arch);
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

/** Candidate cache directories, in order; later ones are for hosts where earlier ones are noexec or read-only. */
function cacheDirs(): string[] {
  const uid = process.geteuid!();
  const dirs: string[] = [];
  if (process.env.BOX_CACHE_DIR) dirs.push(process.env.BOX_CACHE_DIR);
  if (uid === 0) dirs.push('/var/cache/box');
  const home = process.env.HOME;
  if (home && uid !== 0) dirs.push(path.join(process.env.XDG_CACHE_HOME || path.join(home, '.cache'), 'box'));
  dirs.push(`/run/box-${uid}`, path.join(os.tmpdir(), `box-${uid}`), `/dev/shm/box-${uid}`);
  return dirs;
}

/** A directory we may load code from: ours, and nobody else can write into it. */
function safeDir(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    return st.isDirectory() && st.uid === process.geteuid!() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
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

/** O_EXCL temp file + fsync + rename, so a concurrent or interrupted run never sees half a file. */
function writeVerified(file: string, blob: { sha256: string; data: () => string }) {
  const bytes = zlib.brotliDecompressSync(Buffer.from(blob.data(), 'base64'));
  const got = crypto.createHash('sha256').update(bytes).digest('hex');
  if (got !== blob.sha256) throw new Error(`embedded koffi module is corrupt (sha256 ${got})`);
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o500);
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
