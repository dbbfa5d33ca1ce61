// The loader of the shipped ./box: the only JavaScript in front of the payload, a trailing
// comment of base64 parts (box's code, koffi's native modules, tini, the busybox rootfs).
// scripts/build.ts wraps this file's output as `(function(require, __boxFile, __boxFd, __boxModule){…})`
// and reaches it two ways:
//  - direct: `./box …` runs line 2 under /bin/sh, which execs `node -e STUB -- ./box …`; STUB
//    preads this function out of the file and calls it with its fd and no module. Nothing
//    reads or compiles the 3 MB file: only this loader and the code part are read, by offset.
//  - CommonJS: `node ./box …` or require('./box') (the library): Node reads and compiles the
//    whole file (slower), and the file's own line 3 calls this with the module Node made.
// Parts are read through one fd, so they all come from the same file even if ./box is
// replaced (an upgrade) while this process runs; except in the helpers that enter a container
// or an image (__init, __exec, __untar), which hold no fd on a host file longer than a read.
// Either way the code part is compiled with a V8 code cache kept in the private cache
// directory, one per role (the CLI, the container stage), made on first use. `box run` first
// tries a small part of its own (run-fast, below).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { cacheDirs, safeDir } from './cache';
import { writeFileAtomic } from '../util/atomic';

/** Offsets of the parts counted back from the end of the file: the loader's own length does not move them. */
declare const BOX_MANIFEST: { codeHash: string; parts: Record<string, [number, number]> };
/** The `-e` program that starts this file the direct way (line 2 of ./box, see scripts/build.ts). */
declare const BOX_STUB: string;
declare const __boxFile: string;
declare const __boxFd: number; // -1: not opened yet (CommonJS)
declare const __boxModule: NodeModule | undefined;

const Module = require('node:module');
const direct = !__boxModule;
const file = direct ? path.resolve(process.argv[1]) : __boxFile;
let mod: NodeModule;
let req: NodeRequire;
if (direct) {
  // What Node's CommonJS loader would have made for a main script, so box's code cannot tell.
  process.argv[1] = file;
  mod = new Module(file, null);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  req = Module.createRequire(file);
  (req as any).main = mod;
} else {
  mod = __boxModule!;
  req = require;
}
const main = req.main === mod;

const transient = main && /^__(init|exec|untar)$/.test(process.argv[2]);
let fd = __boxFd;
/** One part's base64 text, read by offset (a part is read only when something asks for it). */
function part(name: string): string {
  if (fd < 0) fd = fs.openSync(file, 'r'); // O_CLOEXEC, as Node opens everything
  try {
    const [fromEnd, len] = BOX_MANIFEST.parts[name];
    const buf = Buffer.allocUnsafe(len);
    if (fs.readSync(fd, buf, 0, len, fs.fstatSync(fd).size - fromEnd) !== len) throw new Error(`${file}: truncated (part ${name})`);
    return buf.toString('latin1');
  } finally {
    if (transient) { fs.closeSync(fd); fd = -1; }
  }
}
(globalThis as any).__boxPart = part;
(globalThis as any).__boxCodeHash = BOX_MANIFEST.codeHash; // keys caches of what this code computes (seccomp programs)
// How box starts itself again (lib/container/launch.ts selfArgs): the direct way, with this
// file's path — never process.argv[1] or process.execArgv, the host app's when box is a library.
(globalThis as any).__boxSelf = ['-e', BOX_STUB, '--', fs.realpathSync(file)];

// One cache per verb (`run`, `ps`, the `__init` stage…): each holds the functions its verb
// compiled, measured 4–10 ms of CPU less than one cache shared by every verb. A library's host
// may never exit through us, and its argv says nothing of a role: no cache there.
const role = !main ? undefined : /^(__)?[a-z]{1,12}$/.test(process.argv[2] ?? '') ? process.argv[2] : 'cli';
const dir = role && cacheDirs().find(safeDir);
const saves: (() => void)[] = [];

/** Compile one code part (with the code cache of `cacheRole`) and run it as the CommonJS module `m`. */
function load(name: string, cacheRole: string | undefined, m: { exports: any }) {
  const cacheFile = dir && cacheRole && path.join(dir, `code-${BOX_MANIFEST.codeHash.slice(0, 16)}-${cacheRole}.v8`);
  let cachedData: Buffer | undefined;
  try {
    if (cacheFile) cachedData = fs.readFileSync(cacheFile);
  } catch { /* first run */ }
  const code = Buffer.from(part(name), 'base64').toString('utf8');
  const script = new vm.Script(Module.wrap(code), { filename: file, cachedData });
  // Save the code cache (with every function compiled so far) when there is none yet
  saves.push(() => {
    if (!cacheFile || (cachedData && !script.cachedDataRejected)) return;
    try { writeFileAtomic(cacheFile, script.createCachedData(), 0o600); } catch { /* read-only: no cache */ }
    cachedData = Buffer.alloc(0);
    pruneCodeCaches();
  });
  script.runInThisContext().call(m.exports, m.exports, req, m, file, path.dirname(file));
}

function saveCodeCache() {
  for (const save of saves) save();
}

/**
 * A new build's first cache: drop other builds' caches unused for a week (each build has its
 * own hash, so the directory would otherwise grow with every upgrade). Another box in use
 * beside this one rewrites its cache when it finds it gone.
 */
function pruneCodeCaches() {
  const WEEK = 7 * 24 * 3600 * 1000;
  try {
    const mine = `code-${BOX_MANIFEST.codeHash.slice(0, 16)}-`;
    for (const n of fs.readdirSync(dir!)) {
      if (!/^code-[0-9a-f]{16}-[\w-]+\.v8$/.test(n) || n.startsWith(mine)) continue;
      const f = path.join(dir!, n);
      if (Date.now() - fs.statSync(f).mtimeMs > WEEK) fs.rmSync(f, { force: true });
    }
  } catch { /* not ours to list: leave it */ }
}
(globalThis as any).__boxSaveCodeCache = saveCodeCache; // the stage calls it before execve
if (dir) process.once('exit', (status) => { if (status === 0) saveCodeCache(); }); // a mistyped verb leaves no cache

function loadBox() {
  load('code', role, mod);
  if (direct) mod.loaded = true;
}

// `box run` tries its own small part first (lib/cli/run-fast.ts): an attached run handed to
// the store's supervisor needs ~10% of box's code, and reading, decoding and compiling all of
// it was a third of what such a run cost its client. Whatever that part does not do (it says
// so before it made anything), box's code does, as for any verb. Without a supervisor that
// part spawns the cold run's stage first (it boots while box's code loads here). Not as a
// *runc name: that `run` is the OCI runtime's (box.ts).
if (main && (role === '__init' || role === '__exec') && BOX_MANIFEST.parts.stage) {
  // a stage, for every container and every exec: its own part (lib/inside/entry.ts), an eighth
  // of box's code; it execs or exits, as box.ts's hidden verbs do
  const stage = { exports: {} as any };
  load('stage', role, stage);
  if (role === '__init') stage.exports.stageInit(); else stage.exports.stageExec();
} else if (main && role === 'run' && BOX_MANIFEST.parts['run-fast'] && !/runc$/.test(process.argv[1] ?? '')) {
  const fast = { exports: {} as any };
  load('run-fast', 'run-fast', fast);
  fast.exports.runFast(process.argv.slice(3)).then((done: boolean) => { if (!done) loadBox(); });
} else {
  loadBox();
}
