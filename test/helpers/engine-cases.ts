// The cases podman and docker share (test 30 and 31): the engine's user-facing verbs through the
// runtime under test, and from the host, that each container really is isolated and limited,
// and that nothing of it remains after rm. Failures print the runtime calls the engine made.
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { SpawnSyncOptions } from 'node:child_process';
import { Engine, Result, cgroupDirOf } from './engines';
import { until, sleep } from './box';

/** What the two engines have in common for these cases. */
export interface CliEngine extends Engine {
  cli(args: string[], opts?: SpawnSyncOptions): Result;
  runFlags: string[];
  imageArgs: string[];
}


// counts up every 0.1 s into /tmp/n; USR1 prints a line; TERM ends it with status 7
const COUNTER = 'trap "echo got-usr1" USR1; trap "exit 7" TERM; echo started; i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done';
const alive = (pid: number) => { try { process.kill(pid, 0); return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };

export function engineCases(test: any, getEng: () => CliEngine, tag: string) {
  const eng = () => getEng();
  // A failed call shows the engine's message and every runtime call made so far.
  const ok = (r: Result, what: string) => {
    if (r.status !== 0) assert.unreachable(`${what}: exit ${r.status}\nstderr: ${r.stderr}\nstdout: ${r.stdout}\nruntime calls:\n${eng().calls().split('\n').slice(-25).join('\n')}`);
    return r.stdout;
  };
  const run = (flags: string[], cmd: string[], timeout = 120000) => eng().cli(['run', ...flags, ...eng().runFlags, ...eng().imageArgs, ...cmd], { timeout });
  const inspect = (name: string, fmt: string) => eng().cli(['inspect', '-f', fmt, name]).stdout.trim();
  const pidOf = (name: string) => Number(inspect(name, '{{.State.Pid}}'));
  const name = (s: string) => `${tag}-${s}-${process.pid}`;
  const main = name('main');
  let mainPid = 0;
  const readN = () => Number(fs.readFileSync(`/proc/${mainPid}/root/tmp/n`, 'utf8'));
  const cgFile = (ctrl: string, file: string) => fs.readFileSync(`${cgroupDirOf(mainPid, ctrl)}/${file}`, 'utf8').trim();

  test('run: output and exit code propagate (sh -c "exit 3" → 3)', () => {
    const r = run(['--rm'], ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.is(r.status, 3, `${r.stderr}\n${eng().calls()}`);
    assert.is(r.stdout, 'out\n');
    assert.match(r.stderr, /err/);
  });

  test('run -t: stdin and stdout are a terminal inside', () => {
    const r = run(['--rm', '-t'], ['sh', '-c', '[ -t 0 ] && [ -t 1 ] && tty'], 30000); // a runtime that hangs here costs 30 s, not 2 min
    assert.is(r.status, 0, `${r.stdout}${r.stderr}\n${eng().calls()}`);
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r?\n$/);
  });

  test('run -d with limits, logs: the container runs and its output is logged', async () => {
    ok(run(['-d', '--name', main, '--memory', '64m', '--pids-limit', '50', '--cpus', '0.5'], ['sh', '-c', COUNTER]), 'run -d');
    mainPid = pidOf(main);
    assert.ok(mainPid > 0 && alive(mainPid), `State.Pid ${mainPid}`);
    await until(() => /started/.test(eng().cli(['logs', main]).stdout), 20000, 'logs to show "started"');
  });

  test('host: limits are in the container\'s cgroup files', () => {
    assert.is(cgFile('memory', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
    assert.is(cgFile('pids', 'pids.max'), '50');
    assert.is(cgFile('cpu', 'cpu.cfs_quota_us'), '50000');
    assert.is(cgFile('cpu', 'cpu.cfs_period_us'), '100000');
    // the container's cgroup is under this instance's own parent, not the engine's default
    assert.ok(cgroupDirOf(mainPid, 'memory')!.includes(eng().cgroupParent), cgroupDirOf(mainPid, 'memory'));
  });

  test('host: own namespaces and a seccomp filter', () => {
    for (const ns of ['pid', 'mnt', 'uts', 'ipc', 'net']) {
      assert.is.not(fs.readlinkSync(`/proc/${mainPid}/ns/${ns}`), fs.readlinkSync(`/proc/self/ns/${ns}`), `${ns} namespace is the host's`);
    }
    assert.match(fs.readFileSync(`/proc/${mainPid}/status`, 'utf8'), /^Seccomp:\s+2$/m);
  });

  test('exec: output and exit code; exec -t gets a terminal', () => {
    const r = eng().cli(['exec', main, 'sh', '-c', 'cat /tmp/n >/dev/null && echo in-$HOSTNAME; exit 5']);
    assert.is(r.status, 5, `${r.stderr}\n${eng().calls()}`);
    assert.match(r.stdout, /^in-/);
    const t = eng().cli(['exec', '-t', main, 'sh', '-c', '[ -t 0 ] && tty']);
    assert.is(t.status, 0, `${t.stdout}${t.stderr}\n${eng().calls()}`);
    assert.match(t.stdout, /^\/dev\/pts\/\d+\r?\n$/);
  });

  test('top lists the container\'s processes', () => {
    assert.match(ok(eng().cli(['top', main]), 'top'), /while|sleep|sh/);
  });

  test('kill -s USR1: the trap runs and the container keeps running', async () => {
    ok(eng().cli(['kill', '-s', 'USR1', main]), 'kill -s USR1');
    await until(() => /got-usr1/.test(eng().cli(['logs', main]).stdout), 20000, 'the USR1 trap\'s line in logs');
    assert.is(inspect(main, '{{.State.Running}}'), 'true');
  });

  test('pause stops the counter (freezer), unpause moves it again', async () => {
    ok(eng().cli(['pause', main]), 'pause');
    const frozen = cgFile('freezer', 'freezer.state');
    assert.is(frozen, 'FROZEN');
    const a = readN();
    await sleep(500);
    assert.is(readN(), a, 'the counter moved while paused');
    ok(eng().cli(['unpause', main]), 'unpause');
    await until(() => readN() > a, 10000, 'the counter to move after unpause');
  });

  test('update: memory, cpus and pids limits are rewritten live (host cgroup files)', () => {
    // podman 4.3's update has no --pids-limit (docker's has)
    const pids = /--pids-limit/.test(eng().cli(['update', '--help']).stdout);
    if (!pids) console.log(`  note: ${tag}: this engine's update has no --pids-limit; memory and cpus only`);
    ok(eng().cli(['update', '--memory', '96m', '--cpus', '0.25', ...(pids ? ['--pids-limit', '77'] : []), main]), 'update');
    assert.is(cgFile('memory', 'memory.limit_in_bytes'), String(96 * 1024 * 1024));
    assert.is(cgFile('cpu', 'cpu.cfs_quota_us'), '25000');
    if (pids) assert.is(cgFile('pids', 'pids.max'), '77');
  });

  test('rm -f: no process, no cgroup dir, nothing in the runtime\'s state root', async () => {
    const id = inspect(main, '{{.Id}}');
    const dirs = ['memory', 'pids', 'cpu', 'freezer'].map((c) => cgroupDirOf(mainPid, c)!);
    ok(eng().cli(['rm', '-f', main]), 'rm -f');
    await until(() => !alive(mainPid), 10000, 'the container process to end');
    await until(() => dirs.every((d) => !fs.existsSync(d)), 10000, `cgroup dirs to go (${dirs.filter((d) => fs.existsSync(d))})`);
    await until(() => !eng().stateEntries().includes(id), 10000, `state root entry ${id} to go`);
  });

  test('stop: SIGTERM runs the trap (exit 7); a container ignoring it is SIGKILLed after -t (137)', async () => {
    const trap = name('stop-trap'), deaf = name('stop-deaf');
    try {
      ok(run(['-d', '--name', trap], ['sh', '-c', COUNTER]), 'run -d (trap)');
      ok(run(['-d', '--name', deaf], ['sh', '-c', 'trap "" TERM; echo started; while :; do sleep 0.1; done']), 'run -d (deaf)');
      for (const n of [trap, deaf]) await until(() => /started/.test(eng().cli(['logs', n]).stdout), 20000, `${n} to start`);
      ok(eng().cli(['stop', '-t', '10', trap]), 'stop (trap)');
      assert.is(inspect(trap, '{{.State.ExitCode}}'), '7');
      const t0 = Date.now();
      ok(eng().cli(['stop', '-t', '1', deaf]), 'stop (deaf)');
      assert.is(inspect(deaf, '{{.State.ExitCode}}'), '137');
      assert.ok(Date.now() - t0 < 15000, 'stop -t 1 took too long');
    } finally {
      eng().cli(['rm', '-f', trap, deaf]);
    }
  });

  test('the engine drove the runtime under test (its calls are on record)', () => {
    const verbs = new Set(eng().calls().split('\n').map((l) => (l.match(/ (create|start|exec|kill|pause|resume|update|delete|ps|state) /) || [])[1]).filter(Boolean));
    for (const v of ['create', 'start', 'exec', 'kill', 'pause', 'resume', 'update', 'delete']) assert.ok(verbs.has(v), `no '${v}' call seen: ${[...verbs]}`);
  });

  test('after every rm: nothing left in the state root, no container cgroup under the parent', async () => {
    await until(() => eng().stateEntries().length === 0, 10000, `state root to empty (${eng().stateEntries()})`);
    // only monitor/engine dirs (conmon's, or none) may remain under the instance's parent
    const left = eng().cgroupParents().flatMap((p) => fs.readdirSync(p, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== 'conmon').map((e) => `${p}/${e.name}`));
    assert.equal(left, []);
  });
}

/** The instance's stop(), then: its dir, cgroup parent and processes are gone. */
export async function assertStopsClean(e: Engine) {
  const forced = await e.stop();
  assert.equal(forced, [], 'stop() had to force');
  assert.not.ok(fs.existsSync(e.dir), `${e.dir} left`);
  assert.equal(e.cgroupParents(), []);
  const procs = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => { try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(e.dir); } catch { return false; } });
  assert.equal(procs, []);
}
