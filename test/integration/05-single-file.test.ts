// The product is one file: copied alone into an empty directory it runs a container, with
// koffi's native module extracted to a private, content-hash-named file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as zlib from 'node:zlib';
import { BOX, TOP, ENV } from '../helpers/box';
import * as libc from '../../lib/libc';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-single-'));
const run = (cwd: string, env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, ['--', './box', ...args], { cwd, encoding: 'utf8', env: { ...ENV, ...env } });

test('./box starts with a node shebang, is executable, and carries its parts in one trailing comment', () => {
  const text = fs.readFileSync(BOX, 'latin1');
  assert.ok(text.startsWith('#!/usr/bin/env node\n'));
  assert.ok(fs.statSync(BOX).mode & 0o111);
  const payload = text.slice(text.lastIndexOf('\n/*BOX-PAYLOAD\n'));
  assert.match(payload, /^\n\/\*BOX-PAYLOAD\n[A-Za-z0-9+\/=\n]+\*\/\n$/);
  // the loader in front of it requires nothing but Node's own modules
  const loader = text.slice(0, text.length - payload.length);
  for (const m of loader.matchAll(/require\("([^"]+)"\)/g)) assert.ok(m[1].startsWith('node:'), `loader requires ${m[1]}`);
});

test('both koffi modules are inside: x86-64 and AArch64 ELF shared objects, sha256 as recorded', () => {
  const text = fs.readFileSync(BOX, 'latin1');
  const base = text.lastIndexOf('\n/*BOX-PAYLOAD\n') + 15;
  for (const [arch, machine] of [['x64', 62], ['arm64', 183]] as const) {
    const [, off, len] = new RegExp(`"koffi-${arch}":\\[(\\d+),(\\d+)\\]`).exec(text)!.map(Number); // the loader's manifest
    const elf = zlib.brotliDecompressSync(Buffer.from(text.slice(base + off, base + off + len), 'base64'));
    assert.is(elf.subarray(0, 4).toString('latin1'), '\x7fELF', arch);
    assert.is(elf[4], 2, `${arch}: 64-bit`);
    assert.is(elf.readUInt16LE(16), 3, `${arch}: a shared object`);
    assert.is(elf.readUInt16LE(18), machine, `${arch}: e_machine`);
  }
});

test('copied alone into an empty directory: runs busybox, extracts koffi to a private hash-named file', () => {
  const dir = path.join(tmp, 'empty');
  const cache = path.join(tmp, 'cache');
  fs.mkdirSync(dir);
  fs.copyFileSync(BOX, path.join(dir, 'box'));
  const r = run(dir, { BOX_CACHE_DIR: cache, NODE_PATH: '' }, 'run', '--rm', 'busybox', 'sh', '-c', 'echo $$');
  assert.is(r.stdout, '1\n', r.stderr);
  assert.is(r.status, 0);
  assert.equal(fs.readdirSync(dir), ['box']);
  const files = fs.readdirSync(cache).sort();
  // koffi's module, V8 code caches for the CLI and for the container stage, the compiled seccomp filter
  assert.is(files.length, 4, files.join(' '));
  assert.match(files[0], /^code-[0-9a-f]{16}-cli\.v8$/);
  assert.match(files[1], /^code-[0-9a-f]{16}-init\.v8$/);
  assert.match(files[2], /^koffi-[0-9a-f]{32}\.node$/);
  assert.match(files[3], /^seccomp-[0-9a-f]{32}\.json$/);
  assert.is(fs.statSync(path.join(cache, files[3])).mode & 0o777, 0o600);
  assert.is(fs.statSync(cache).mode & 0o777, 0o700);
  for (const f of files) assert.is(fs.statSync(path.join(cache, f)).mode & 0o022, 0);
  assert.is(fs.statSync(path.join(cache, files[2])).mode & 0o222, 0);
  // a second run reuses it
  const again = run(dir, { BOX_CACHE_DIR: cache }, 'run', '--rm', 'busybox', 'true');
  assert.is(again.status, 0, again.stderr);
  assert.equal(fs.readdirSync(cache), files);
});

test('a cache directory that others can write to is not trusted', () => {
  const dir = path.join(tmp, 'open');
  fs.mkdirSync(dir, { mode: 0o777 });
  fs.chmodSync(dir, 0o777);
  const r = run(TOP, { BOX_CACHE_DIR: dir }, 'run', '--rm', 'busybox', 'true');
  assert.is(r.status, 0, r.stderr);
  assert.equal(fs.readdirSync(dir), []);
});

test('a noexec cache directory is passed over for the next candidate', () => {
  const dir = path.join(tmp, 'noexec');
  fs.mkdirSync(dir, { mode: 0o700 });
  libc.mount('tmpfs', dir, 'tmpfs', 8 /* MS_NOEXEC */, 'mode=700');
  try {
    const r = run(TOP, { BOX_CACHE_DIR: dir }, 'run', '--rm', 'busybox', 'true');
    assert.is(r.status, 0, r.stderr);
    assert.is(fs.readdirSync(dir).filter((f) => f.endsWith('.node')).length, 1, 'it tried here first');
  } finally {
    libc.umount2(dir, 0);
  }
});

test('in development, tsx box.ts runs the same code', () => {
  const r = spawnSync(process.execPath, [path.join(TOP, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(TOP, 'box.ts'), 'run', '--rm', 'busybox', 'sh', '-c', 'echo $$'], { encoding: 'utf8', env: ENV });
  assert.is(r.stdout, '1\n', r.stderr);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
