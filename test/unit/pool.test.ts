// The warm stage pool's logic (lib/container/pool.ts) with fake stages, the stdio handoff of a
// pooled stage (the plan on box's side, the order on the stage's side against the fake libc),
// and the library's options → `box run` flags (lib/library.ts). No root, no processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StagePool, PooledStage } from '../../lib/container/pool';
import { stdioPlan } from '../../lib/container/handoff';
import { runArgs } from '../../lib/library';
import { parseRun } from '../../lib/options/run';
import { FakeLibc, Gone } from '../fakes/libc';
import { stageConfig } from '../fakes/stage-config';
import { stageInit } from '../../lib/inside/init';
import { FD_SOCKET, POOLED_ARG } from '../../lib/inside/protocol';
import { CLONE } from '../../lib/libc/constants';

const GONE_PID = 0x7ffffff0; // above any pid_max: no such process

class FakeStage implements PooledStage {
  held = true;
  closed = false;
  killed: string[] = [];
  die!: (status: number) => void;
  readonly exited = new Promise<number>((r) => { this.die = r; });
  readonly child = { pid: process.pid, kill: (sig: string) => { this.killed.push(sig); this.die(137); return true; } };
  hold(on: boolean) { this.held = on; }
  close() { this.closed = true; }
}

function fakePool(k: number) {
  const made: FakeStage[] = [];
  const pool = new StagePool<FakeStage>(k, () => { const s = new FakeStage(); made.push(s); return s; });
  return { pool, made };
}
const tick = () => new Promise((r) => setImmediate(r));

test('pool: K idle stages at once, none holding the event loop; take() hands one out, held, replaced only once the taker closes it', async () => {
  const { pool, made } = fakePool(2);
  assert.is(made.length, 2);
  assert.ok(made.every((s) => !s.held), 'idle stages are unref\'d');
  const s = pool.take()!;
  assert.is(s, made[0]);
  assert.ok(s.held, 'a taken stage keeps the loop alive while its container runs');
  assert.is(made.length, 2, 'no spawn on the taker\'s path');
  await tick();
  assert.is(made.length, 2, 'no spawn while the taken stage runs (it would compete with that run)');
  s.close();
  assert.ok(s.closed, 'the stage\'s own close still runs');
  assert.is(made.length, 2, 'nor in the taker\'s close');
  await tick();
  assert.is(made.length, 3, 'replaced asynchronously once closed');
  assert.is(pool.pids.length, 2);
  s.close(); // closed twice: no second replacement
  await tick();
  assert.is(made.length, 3);
  await pool.close();
});

test('pool: a taken stage that runs on is replaced after refillDelayMs anyway (long-lived containers do not empty the pool)', async () => {
  const { pool, made } = fakePool(1);
  pool.refillDelayMs = 20;
  const s = pool.take()!;
  await tick();
  assert.is(made.length, 1);
  await new Promise((r) => setTimeout(r, 40));
  await tick();
  assert.is(made.length, 2, 'replaced after the delay');
  s.close();
  await tick();
  assert.is(made.length, 2, 'and not again at close');
  await pool.close();
});

test('pool: size 0 makes nothing and take() is undefined (the cold path); a bad size is refused', async () => {
  const { pool, made } = fakePool(0);
  assert.is(pool.take(), undefined);
  await tick();
  assert.is(made.length, 0);
  assert.throws(() => new StagePool(-1), /size/);
  assert.throws(() => new StagePool(1.5), /size/);
});

test('pool: a stage that died idle is dropped (closed) and replaced; one that died before its exit was seen is skipped by take()', async () => {
  const { pool, made } = fakePool(1);
  made[0].die(137);
  await tick(); await tick();
  assert.ok(made[0].closed);
  assert.is(made.length, 2);
  assert.equal(pool.pids, [process.pid]);
  made[1].child.pid = GONE_PID; // gone, its exit event not delivered yet
  assert.is(pool.take(), undefined);
  assert.ok(made[1].closed);
  await tick();
  assert.is(made.length, 3);
  await pool.close();
});

test('pool: stages that keep dying idle are not respawned forever', async () => {
  const { pool, made } = fakePool(1);
  for (let i = 0; i < 20; i++) { made[made.length - 1].die(1); await tick(); await tick(); }
  assert.ok(made.length <= 6, `${made.length} spawned`);
  assert.is(pool.take(), undefined);
  await pool.close();
});

test('pool: a spawn that throws stops the pool (runs start cold), never an exception in the caller\'s loop', async () => {
  let n = 0;
  const pool = new StagePool<FakeStage>(2, () => { if (n++ > 0) throw new Error('EAGAIN'); return new FakeStage(); });
  assert.is(pool.error?.message, 'EAGAIN');
  pool.take()!.close(); // a stage handed out and its run over: worth one more try, which fails too
  await tick();
  assert.is(n, 3);
  assert.is(pool.take(), undefined);
  await tick();
  assert.is(n, 3, 'no retry on every take once nothing works');
  await pool.close();
});

test('pool: close() SIGKILLs every idle stage, waits for its exit, closes it, and makes no more', async () => {
  const { pool, made } = fakePool(3);
  const taken = pool.take()!;
  await pool.close();
  for (const s of made.filter((x) => x !== taken)) { assert.equal(s.killed, ['SIGKILL']); assert.ok(s.closed); }
  assert.equal(taken.killed, [], 'a taken stage is its run\'s');
  await tick();
  assert.is(made.length, 3);
  assert.is(pool.take(), undefined);
});

test('handoff: stdio read as Node\'s spawn reads it; ignore needs nothing (the pooled stage has /dev/null)', () => {
  assert.equal(stdioPlan(['ignore', 'pipe', 'pipe']), [{ target: 1, pipe: true }, { target: 2, pipe: true }]);
  assert.equal(stdioPlan('inherit'), [{ target: 0, fd: 0 }, { target: 1, fd: 1 }, { target: 2, fd: 2 }]);
  assert.equal(stdioPlan([null, 7, undefined] as any), [{ target: 0, pipe: true }, { target: 1, fd: 7 }, { target: 2, pipe: true }]);
  assert.equal(stdioPlan(['ignore', { fd: 9 } as any, 'ignore']), [{ target: 1, fd: 9 }]);
  assert.equal(stdioPlan('ignore'), []);
  assert.throws(() => stdioPlan(['ipc', 'pipe', 'pipe'] as any), /stdio\[0\]: 'ipc'/);
  assert.throws(() => stdioPlan(['ignore', {} as any, 'pipe']), /stdio\[1\]: a stream without a file descriptor/);
});

/** `__init` against the fake libc, its channel fed these messages, until it execs or ends. */
function runInit(...messages: object[]): FakeLibc {
  const fake = new FakeLibc();
  fake.channel.push(...messages);
  fake.install();
  try { stageInit(); } catch (e) { if (!(e instanceof Gone)) throw e; } finally { fake.restore(); }
  return fake;
}

test('__init (pooled): the stdio queued on fd 4 is taken right after the config, dup2\'d onto the listed fds, before any namespace changes', () => {
  const fake = runInit({ ...stageConfig(), stdio: [1, 2] }, { start: true });
  assert.is(fake.end?.how, 'execve');
  const names = fake.calls.map((c) => c.name);
  const read = names.indexOf('read');
  const recv = fake.calls.flatMap((c, i) => (c.name === 'recvFd' ? [i] : []));
  assert.is(recv.length, 2);
  assert.ok(recv.every((i) => i > read && fake.calls[i].args[0] === FD_SOCKET));
  const dups = fake.calls.filter((c) => c.name === 'dup2').slice(0, 2);
  assert.equal(dups.map((c) => [c.args[0], c.args[1]]), [[fake.calls[recv[0]].result, 1], [fake.calls[recv[1]].result, 2]]);
  assert.ok(names.indexOf('dup2') < names.indexOf('unshare'), 'before the first unshare');
});

test('__init (pooled): cap_last_cap, the namespaces and loopback before the config; nothing of them again after it; an OCI config refused', () => {
  const argv = process.argv;
  process.argv = [...argv.slice(0, 2), '__init', POOLED_ARG];
  try {
    const fake = runInit({ ...stageConfig(), stdio: [1, 2] }, { start: true });
    assert.is(fake.end?.how, 'execve');
    const names = fake.calls.map((c) => c.name);
    const read = names.indexOf('read');
    const ns = fake.calls.flatMap((c, i) => (c.name === 'unshare' && c.args[0] === (CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET) ? [i] : []));
    assert.equal(ns.length, 1, 'the namespaces made once');
    assert.ok(ns[0] < read, 'before the config');
    assert.is(names.filter((n) => n === 'loopbackUp').length, 1);
    assert.ok(names.indexOf('loopbackUp') < read);
    assert.ok(fake.calls.findIndex((c) => c.name === 'readFile' && c.args[0] === '/proc/sys/kernel/cap_last_cap') < read);
    assert.ok(names.indexOf('recvFd') > read, 'the stdio after the config that lists it');

    const oci = runInit({ ...stageConfig(), oci: {} });
    assert.ok(oci.end && oci.end.how !== 'execve', 'an OCI config is not run');
    assert.match(JSON.stringify(oci.sent), /pooled stage cannot run an OCI container/);
  } finally {
    process.argv = argv;
  }
});

test('__init (cold): no stdio in the config, nothing received', () => {
  const fake = runInit(stageConfig(), { start: true });
  assert.not.ok(fake.calls.some((c) => c.name === 'recvFd'));
});

test('library: options become box run\'s flags, parsed by the CLI\'s own parser', () => {
  const args = runArgs({ image: 'busybox', command: ['sh', '-c', 'echo $A'], env: { A: '1', B: 'x=y' }, memory: '64m', cpus: 0.5, pidsLimit: 20, rm: true, tty: false, stdin: true, readOnly: true, volumes: ['/a:/b:ro'], capDrop: ['NET_RAW'], user: '1000' });
  assert.equal(args, ['--env=A=1', '--env=B=x=y', '--memory=64m', '--cpus=0.5', '--pids-limit=20', '--rm', '--interactive', '--read-only', '--volume=/a:/b:ro', '--cap-drop=NET_RAW', '--user=1000', 'busybox', 'sh', '-c', 'echo $A']);
  const req = parseRun(args, {}, { ncpu: 2 } as any);
  assert.equal(req.spec.command, ['sh', '-c', 'echo $A']);
  assert.equal(req.spec.env, ['A=1', 'B=x=y']);
  assert.ok(req.spec.rm && req.spec.stdin && req.spec.readOnly && !req.spec.tty);
  assert.is(req.spec.resources.memory, 64 * 1024 * 1024);
  assert.is(req.spec.resources.pidsLimit, 20);
  assert.equal(req.spec.volumes, [{ source: '/a', target: '/b', readonly: true }]);
});

test('library: unknown options, -d and a missing or flag-like image are refused with code "invalid"', () => {
  for (const bad of [{ image: 'busybox', memroy: '1m' }, { image: 'busybox', detach: true }, { image: '' }, { image: '-v' }, {}]) {
    try { runArgs(bad as any); assert.unreachable(JSON.stringify(bad)); } catch (e: any) { assert.is(e.code, 'invalid', JSON.stringify(bad)); }
  }
});

test.run();
