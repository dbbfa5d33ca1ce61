// Signals reach the container; --init reaps and forwards; a SIGKILLed box leaves nothing
// that the next invocation does not collect.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { box, boxAsync, exitOf, until, childrenOf, alive, boxCgroups, STATE, sh, stop, cmdline as cmdlineOf, removeAll } from '../helpers/box';

function collectOutput(p: ReturnType<typeof boxAsync>): () => string {
  let out = '';
  p.stdout!.on('data', (d) => { out += d; });
  p.stderr!.on('data', (d) => { out += d; });
  return () => out;
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const) {
  test(`${sig} to box reaches the container's PID 1`, async () => {
    const name = sig.slice(3);
    const p = boxAsync(['run', '--rm', 'busybox', 'sh', '-c', `trap "echo got-${name}; exit 42" ${name}; echo ready; while :; do sleep 0.05; done`]);
    const out = collectOutput(p);
    await until(() => out().includes('ready'), 60000, 'ready');
    p.kill(sig);
    const { code } = await exitOf(p);
    assert.is(out().trim(), `ready\ngot-${name}`);
    assert.is(code, 42);
  });
}

test('PID 1 killed from the host: box exits 137', async () => {
  const p = boxAsync(['run', '--rm', 'busybox', 'sh', '-c', 'echo ready; sleep 3600']);
  const out = collectOutput(p);
  await until(() => out().includes('ready'), 60000, 'ready');
  const [stage] = childrenOf(p.pid!);
  process.kill(stage, 'SIGKILL');
  assert.is((await exitOf(p)).code, 137);
});

test('--init: PID 1 is the init, orphans are reaped, signals are forwarded', async () => {
  // An orphan re-parented to PID 1: `sleep` as PID 1 never reaps it, the init does. Nothing
  // ends on a timer the test must beat: PID 1 sleeps until stopped, the orphan's end is awaited.
  const orphans = async (flags: string[], settled: (kids: { pid: number; state: string }[]) => boolean) => {
    const p = boxAsync(['run', '--rm', ...flags, 'busybox', 'sh', '-c', '(sleep 0.1 &); echo ready; exec sleep 3600']);
    try {
      const out = collectOutput(p);
      await until(() => out().includes('ready'), 60000, 'ready');
      const [pid1] = childrenOf(p.pid!);
      // PID 1's children but the command itself (under --init, the shell that became `sleep 3600`)
      const kids = () => childrenOf(pid1).filter((c) => cmdlineOf(c) !== 'sleep 3600').map((c) => {
        try { return { pid: c, state: fs.readFileSync(`/proc/${c}/stat`, 'utf8').split(') ')[1][0] }; } catch { return { pid: c, state: 'gone' }; }
      }).filter((k) => k.state !== 'gone');
      return await until(() => settled(kids()) && kids(), 30000, `the orphan to end (${flags}): ${JSON.stringify(kids())}`);
    } finally {
      await stop(p);
    }
  };
  // without an init the exited orphan stays a zombie; with one it is reaped and gone
  assert.equal((await orphans([], (k) => k.length === 1 && k[0].state === 'Z')).map((k) => k.state), ['Z']);
  assert.equal(await orphans(['--init'], (k) => k.length === 0), []);
  // PID 1 is tini, run from box's sealed memfd, and it started the shell (the comm of a
  // process started by execveat from an fd differs between kernels: cmdline and exe do not).
  const [cmdline, exe, self] = sh('tr "\\0" " " < /proc/1/cmdline; echo; readlink /proc/1/exe; echo $$', ['--init']).split('\n');
  assert.ok(cmdline.startsWith('/sbin/box-init -- sh -c '), cmdline);
  assert.is(exe, '/memfd:box-init (deleted)');
  assert.is.not(self, '1');
  const p = boxAsync(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'echo ready; exec sleep 3600']);
  const out = collectOutput(p);
  await until(() => out().includes('ready'), 60000, 'ready');
  const t0 = Date.now();
  p.kill('SIGTERM'); // sleep is not PID 1 under --init, so the default action kills it
  assert.is((await exitOf(p)).code, 143);
  assert.ok(Date.now() - t0 < 20000, `${Date.now() - t0} ms`); // not the hour of the sleep: forwarded at once
});

function containerIds(): string[] {
  try { return fs.readdirSync(path.join(STATE, 'containers')); } catch { return []; }
}

test('SIGKILL of box: the container dies with it, the next box collects what is left', async () => {
  const before = new Set(containerIds());
  const keep = boxAsync(['run', '--name', 'killed-keep', 'busybox', 'sleep', '3600']);
  const gone = boxAsync(['run', '--rm', 'busybox', 'sleep', '3600']);
  try {
    const ids = await until(() => {
      const now = containerIds().filter((i) => !before.has(i));
      const running = now.filter((i) => { try { return JSON.parse(fs.readFileSync(path.join(STATE, 'containers', i, 'state.json'), 'utf8')).status === 'running'; } catch { return false; } });
      return running.length === 2 && running;
    }, 60000, 'two running containers');
    const stages = [...childrenOf(keep.pid!), ...childrenOf(gone.pid!)];
    assert.is(stages.length, 2);
    keep.kill('SIGKILL');
    gone.kill('SIGKILL');
    await Promise.all([exitOf(keep), exitOf(gone)]);
    await until(() => stages.every((s) => !alive(s)), 30000, 'the containers to die with box');
    assert.ok(boxCgroups().some((d) => ids.some((i) => d.endsWith(i))), 'cgroups are left until collected');
    const ps = box(['ps', '-a']);
    assert.is(ps.status, 0);
    assert.not.ok(boxCgroups().some((d) => ids.some((i) => d.endsWith(i))), 'cgroups collected');
    assert.match(ps.stdout, /killed-keep/);
    assert.match(ps.stdout, /Exited \(137\)/);
    assert.is(containerIds().filter((i) => !before.has(i)).length, 1, 'the --rm container is gone, the other kept as exited');
    assert.is(box(['rm', 'killed-keep']).status, 0);
    assert.is(containerIds().filter((i) => !before.has(i)).length, 0);
  } finally {
    keep.kill('SIGKILL');
    gone.kill('SIGKILL');
    removeAll('killed-keep');
  }
});

test.run();
