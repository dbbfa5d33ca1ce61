// The product is one file: copied alone into an empty directory it runs a container, with
// koffi's native module extracted to a private, content-hash-named file. Run directly it goes
// through its sh line and preads only what it needs; `node ./box` and require() still work.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import * as zlib from 'node:zlib';
import { BOX, TOP, ENV, needs } from '../helpers/box';
import * as libc from '../../lib/libc';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-single-'));
const run = (cwd: string, env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, ['--', './box', ...args], { cwd, encoding: 'utf8', env: { ...ENV, ...env } });
/** ./box executed itself, as users run it: the kernel hands it to /bin/sh (line 1). */
const direct = (cwd: string, env: Record<string, string | undefined>, ...args: string[]) =>
  spawnSync('./box', args, { cwd, encoding: 'utf8', env: { ...ENV, ...env } });
const PAYLOAD = '\n/*BOX-PAYLOAD\n';

test('./box is sh on line 1-2 and JavaScript after, is executable, and carries its parts in one trailing comment', () => {
  const text = fs.readFileSync(BOX, 'latin1');
  const [line1, line2, line3] = text.split('\n', 3);
  assert.is(line1, '#!/bin/sh');
  assert.match(line2, /^":" \/\/; .*exec node -e '[^']+' -- "\$0" "\$@"$/); // a string and a comment to JavaScript
  assert.match(line3, /^;\(function\(require,__boxFile,__boxFd,__boxModule\)\{/);
  assert.ok(fs.statSync(BOX).mode & 0o111);
  const payload = text.slice(text.lastIndexOf(PAYLOAD));
  assert.match(payload, /^\n\/\*BOX-PAYLOAD\n[A-Za-z0-9+\/=\n]+\*\/\n$/);
  // the loader in front of it requires nothing but Node's own modules
  const loader = text.slice(0, text.length - payload.length);
  for (const m of loader.matchAll(/require\("([^"]+)"\)/g)) assert.ok(['fs', 'vm'].includes(m[1]) || m[1].startsWith('node:'), `loader requires ${m[1]}`);
});

test('both koffi modules are inside: x86-64 and AArch64 ELF shared objects, sha256 as recorded', () => {
  const text = fs.readFileSync(BOX, 'latin1');
  for (const [arch, machine] of [['x64', 62], ['arm64', 183]] as const) {
    const [, fromEnd, len] = new RegExp(`"koffi-${arch}":\\[(\\d+),(\\d+)\\]`).exec(text)!.map(Number); // the loader's manifest
    const at = text.length - fromEnd;
    const elf = zlib.brotliDecompressSync(Buffer.from(text.slice(at, at + len), 'base64'));
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
  // koffi's module, V8 code caches for the container stage, `run`'s small part (it spawned the
  // stage: no supervisor) and `run`, the compiled seccomp filter
  assert.is(files.length, 5, files.join(' '));
  assert.match(files[0], /^code-[0-9a-f]{16}-__init\.v8$/);
  assert.match(files[1], /^code-[0-9a-f]{16}-run-fast\.v8$/);
  assert.match(files[2], /^code-[0-9a-f]{16}-run\.v8$/);
  assert.match(files[3], /^koffi-[0-9a-f]{32}\.node$/);
  assert.match(files[4], /^seccomp-[0-9a-f]{32}\.json$/);
  assert.is(fs.statSync(path.join(cache, files[4])).mode & 0o777, 0o600);
  assert.is(fs.statSync(cache).mode & 0o777, 0o700);
  for (const f of files) assert.is(fs.statSync(path.join(cache, f)).mode & 0o022, 0);
  assert.is(fs.statSync(path.join(cache, files[3])).mode & 0o222, 0);
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

test('run directly and as `node ./box`, from a copy alone: same container, same argv', () => {
  const dir = path.join(tmp, 'both');
  fs.mkdirSync(dir);
  fs.copyFileSync(BOX, path.join(dir, 'box'));
  for (const [how, r] of [['direct', direct(dir, {}, 'run', '--rm', 'busybox', 'sh', '-c', 'echo $$ "$0" "$1"', 'zero', 'one')],
    ['node ./box', run(dir, {}, 'run', '--rm', 'busybox', 'sh', '-c', 'echo $$ "$0" "$1"', 'zero', 'one')]] as const) {
    assert.is(r.stderr, '', how);
    assert.is(r.stdout, '1 zero one\n', how);
    assert.is(r.status, 0, how);
  }
  // box's own argv: arguments that look like Node's options stay box's
  const v = direct(dir, {}, '--version');
  assert.is(v.status, 0, v.stderr);
  assert.match(v.stdout, /^box version /);
});

const strace = spawnSync('strace', ['-V']).status === 0;
needs(test, strace, 'strace is not installed')('run directly, box reads its loader and code part, not the 3 MB file; node ./box reads it all', () => {
  // bytes read from the box file by `box version` (one process: sh execs node; strace -y names each fd's file)
  const readOf = (argv: string[]) => {
    const r = spawnSync('strace', ['-qq', '-y', '-e', 'trace=read,pread64', '-e', 'signal=none', ...argv], { cwd: TOP, encoding: 'utf8', env: ENV, maxBuffer: 64 << 20 });
    assert.is(r.status, 0, r.stderr.slice(-2000));
    let bytes = 0;
    for (const m of r.stderr.matchAll(/^p?read(?:64)?\(\d+<([^>]*)>.*\) = (\d+)$/gm)) if (m[1] === BOX) bytes += Number(m[2]);
    return bytes;
  };
  const size = fs.statSync(BOX).size;
  const code = Number(/"?code"?:\[\d+,(\d+)\]/.exec(fs.readFileSync(BOX, 'latin1').slice(0, 20000))![1]);
  const directBytes = readOf(['./box', 'version']);
  assert.ok(directBytes > code && directBytes < code + 64 * 1024, `direct: ${directBytes} bytes of ${size} (code part ${code})`);
  assert.ok(readOf([process.execPath, './box', 'version']) >= size, 'node ./box reads the whole file');
});

test('NODE_EXTRA_CA_CERTS is not loaded on the container start path, and does not break box run', () => {
  const dir = path.join(tmp, 'ca');
  fs.mkdirSync(dir);
  fs.copyFileSync(BOX, path.join(dir, 'box'));
  // Node warns at start-up when it cannot load the file: every Node process that loads it says so
  const missing = { NODE_EXTRA_CA_CERTS: path.join(dir, 'no-such.pem') };
  const probe = spawnSync(process.execPath, ['-e', '0'], { encoding: 'utf8', env: { ...ENV, ...missing } });
  assert.match(probe.stderr, /Ignoring extra certs/, 'this Node loads NODE_EXTRA_CA_CERTS at start-up');
  const r = direct(dir, missing, 'run', '--rm', 'busybox', 'sh', '-c', 'echo ${NODE_EXTRA_CA_CERTS:-unset}');
  assert.is(r.stdout, 'unset\n', r.stderr);
  assert.is(r.stderr, '', 'neither box nor its stage loaded it');
  assert.is(r.status, 0);
  // `node ./box` loads it once, in the CLI process Node started; the stage it spawns does not
  const viaNode = run(dir, missing, 'run', '--rm', 'busybox', 'true');
  assert.is(viaNode.status, 0, viaNode.stderr);
  assert.is(viaNode.stderr.match(/Ignoring extra certs/g)?.length, 1, viaNode.stderr);
  // detached: the supervisor keeps the container, and must not load it either
  const d = direct(dir, missing, 'run', '-d', 'busybox', 'true');
  assert.is(d.status, 0, d.stderr);
  assert.is(d.stderr, '');
  direct(dir, {}, 'rm', '-f', d.stdout.trim());
  // a real file, as on this machine
  const ok = direct(dir, { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' }, 'run', '--rm', 'busybox', 'true');
  assert.is(ok.status, 0, ok.stderr);
});

const openssl = spawnSync('openssl', ['version']).status === 0;
const hostResolves = spawnSync('getent', ['hosts', os.hostname()]).status === 0;
needs(test, openssl && hostResolves, !openssl ? 'openssl is not installed' : `${os.hostname()} does not resolve`)('box pull trusts the CA in NODE_EXTRA_CA_CERTS, though Node never loaded it', async () => {
  // A registry over HTTPS with a certificate of its own (host name without a dot or localhost:
  // box speaks HTTPS to it), answering 404 to everything: "not found" means TLS got through.
  const host = os.hostname();
  const dir = path.join(tmp, 'registry');
  fs.mkdirSync(dir);
  const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`], { encoding: 'utf8' });
  assert.is(gen.status, 0, gen.stderr);
  const server = spawn(process.execPath, ['-e', `const s = require('https').createServer({ key: require('fs').readFileSync(${JSON.stringify(key)}), cert: require('fs').readFileSync(${JSON.stringify(cert)}) }, (q, r) => { r.statusCode = 404; r.end(); }).listen(0, () => process.stdout.write(s.address().port + "\\n"))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve) => server.stdout!.once('data', (d) => resolve(String(d).trim())));
    const image = `${host}:${port}/cold/ca:1`;
    const trusted = spawnSync(BOX, ['pull', image], { encoding: 'utf8', env: { ...ENV, NODE_EXTRA_CA_CERTS: cert } });
    assert.match(trusted.stderr, /not found in/, trusted.stderr);
    const untrusted = spawnSync(BOX, ['pull', image], { encoding: 'utf8', env: { ...ENV, NODE_EXTRA_CA_CERTS: undefined, BOX_EXTRA_CA_CERTS: undefined } });
    assert.match(untrusted.stderr, /cannot reach registry .*(SELF_SIGNED|UNABLE_TO_VERIFY)/, untrusted.stderr);
  } finally {
    server.kill();
  }
});

const lib = fs.readFileSync(path.join(TOP, 'box.mjs'), 'utf8');
needs(test, lib.includes('export const {'), 'lib/library.ts exports nothing yet (placeholder until the library lands)')('box.mjs imports from a plain Node ES module: the library, not the CLI', () => {
  const names = ['run', 'create', 'exec', 'kill', 'stop', 'remove', 'list', 'get', 'start', 'StagePool'];
  const r = spawnSync(process.execPath, ['--input-type=module', '-e',
    `import * as box from ${JSON.stringify(path.join(TOP, 'box.mjs'))}; console.log(JSON.stringify(${JSON.stringify(names)}.map((n) => [n, typeof box[n]])))`],
  { encoding: 'utf8', env: ENV, cwd: tmp });
  assert.is(r.status, 0, r.stderr);
  assert.equal(Object.fromEntries(JSON.parse(r.stdout)), Object.fromEntries(names.map((n) => [n, 'function'])));
});

test('require(./box) from an app is the library: no CLI runs, argv and execArgv are the app\'s', () => {
  // the host app's argv would be a box verb if the CLI ran ("version" prints, "bogus" exits 1)
  const r = spawnSync(process.execPath, ['--no-warnings', '-e', `const b = require(${JSON.stringify(BOX)}); const s = globalThis.__boxSelf; console.log(typeof b, JSON.stringify([s[0], ...s.slice(2)]))`, 'bogus'], { encoding: 'utf8', env: ENV });
  assert.is(r.status, 0, r.stderr);
  // stages start from the bundle file, the direct way, without the app's --no-warnings
  assert.is(r.stdout, `object ${JSON.stringify(['-e', '--', fs.realpathSync(BOX)])}\n`);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
