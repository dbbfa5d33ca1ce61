// Container records: the live index follows status changes, `update` is a read-modify-write
// no other writer can interleave with, collect() reclaims dead live containers (also in a
// store from before the index), and atomic writes leave no temp files. Each check runs
// lib/state in a child with a private BOX_ROOT (test/fixtures/state-store.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { writeFileAtomic } from '../../lib/util/atomic';

const CHILD = path.join(__dirname, '..', 'fixtures', 'state-store.ts');
const roots: string[] = [];
function store(): string {
  const r = fs.mkdtempSync(path.join(os.tmpdir(), 'box-state-unit-'));
  roots.push(r);
  return r;
}
test.after(() => { for (const r of roots) fs.rmSync(r, { recursive: true, force: true }); });

const args = (op: string, ...rest: string[]) => ['--require', 'tsx/cjs', CHILD, op, ...rest];
function child(root: string, op: string, rest: string[] = [], input?: string): any[] {
  const r = spawnSync(process.execPath, args(op, ...rest), { env: { ...process.env, BOX_ROOT: root }, input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${op}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

const DEAD = { pid: 2 ** 22 + 1, start: '1' }; // above any pid_max: never a live process
function record(root: string, over: object = {}): any {
  const id = crypto.randomBytes(32).toString('hex');
  fs.mkdirSync(path.join(root, 'containers', id), { recursive: true });
  return { id, name: `n${id.slice(0, 6)}`, image: 'busybox', spec: { rm: false }, status: 'created', created: '', owner: DEAD, cgroups: [], rootfs: {}, ...over };
}
const onDisk = (root: string, id: string) => JSON.parse(fs.readFileSync(path.join(root, 'containers', id, 'state.json'), 'utf8'));

test('the live index follows the record: created and running in it, exited and removed out', () => {
  const root = store();
  const s = record(root, { owner: { pid: process.pid, start: 'x' } });
  assert.equal(child(root, 'save', [], JSON.stringify(s)), [[s.id]]);
  assert.equal(child(root, 'status', [s.id, 'running']), ['running', [s.id]]);
  assert.equal(child(root, 'status', [s.id, 'exited']), ['exited', []]);
  assert.is(onDisk(root, s.id).status, 'exited');
  assert.equal(fs.readdirSync(path.join(root, 'containers', s.id)), ['state.json']); // no temp file left
  assert.is(fs.statSync(path.join(root, 'containers', s.id, 'state.json')).mode & 0o777, 0o600);
  const t = record(root);
  child(root, 'save', [], JSON.stringify(t));
  assert.equal(child(root, 'remove', [t.id]), [[]]);
  assert.not.ok(fs.existsSync(path.join(root, 'containers', t.id)));
  assert.equal(child(root, 'status', ['f'.repeat(64), 'running']), [null, []]); // no record: nothing written
});

test('update: concurrent read-modify-writes of one record lose nothing (the container lock)', async () => {
  const root = store();
  const s = record(root, { owner: { pid: process.pid, start: 'x' }, status: 'exited' });
  child(root, 'save', [], JSON.stringify(s));
  const runs = [0, 1, 2, 3].map(() => new Promise<number>((done) => {
    const p = spawn(process.execPath, args('increment', s.id, '25'), { env: { ...process.env, BOX_ROOT: root }, stdio: 'ignore' });
    p.on('exit', (code) => done(code ?? -1));
  }));
  assert.equal(await Promise.all(runs), [0, 0, 0, 0]);
  assert.is(onDisk(root, s.id).n, 100);
});

test('collect: a live record whose owner died is reclaimed (--rm: removed; else exited 137); a live owner keeps it', () => {
  const root = store();
  const kept = record(root, { status: 'running', pid: 4242 });
  const gone = record(root, { status: 'created', spec: { rm: true } });
  const alive = record(root, { status: 'running', owner: { pid: process.pid, start: fs.readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ')[19] } });
  for (const s of [kept, gone, alive]) child(root, 'save', [], JSON.stringify(s));
  assert.equal(child(root, 'collect'), [[alive.id]]);
  assert.is(onDisk(root, kept.id).status, 'exited');
  assert.is(onDisk(root, kept.id).exitCode, 137);
  assert.is(onDisk(root, kept.id).pid, 0);
  assert.not.ok(fs.existsSync(path.join(root, 'containers', gone.id)));
  assert.is(onDisk(root, alive.id).status, 'running');
});

test('collect: a store written before the index is indexed once, its dead live records reclaimed', () => {
  const root = store();
  const old = record(root, { status: 'running' });
  const done = record(root, { status: 'exited' });
  for (const s of [old, done]) fs.writeFileSync(path.join(root, 'containers', s.id, 'state.json'), JSON.stringify(s)); // no index
  assert.equal(child(root, 'collect'), [[]]);
  assert.is(onDisk(root, old.id).status, 'exited');
  assert.ok(fs.existsSync(path.join(root, 'live', '.complete')));
  // an index entry whose record went (a box killed between the two) is dropped
  fs.writeFileSync(path.join(root, 'live', 'a'.repeat(64)), '');
  assert.equal(child(root, 'collect'), [[]]);
});

test('writeFileAtomic: replaces whole, with its mode, no temp file left, even when the rename fails', () => {
  const dir = store();
  const file = path.join(dir, 'f.json');
  writeFileAtomic(file, 'one', 0o640);
  writeFileAtomic(file, Buffer.from('two'), 0o640, { durable: false });
  assert.is(fs.readFileSync(file, 'utf8'), 'two');
  assert.is(fs.statSync(file).mode & 0o777, 0o640 & ~process.umask());
  fs.mkdirSync(path.join(dir, 'adir'));
  assert.throws(() => writeFileAtomic(path.join(dir, 'adir'), 'x'), /EISDIR|ENOTDIR|EEXIST|directory/);
  assert.equal(fs.readdirSync(dir).sort(), ['adir', 'f.json']);
});

test.run();
