// Restart policies (--restart), carried out by the shared supervisor as Docker's daemon does;
// box restart; box start of an exited container (same layer) and start -a. Real containers:
// runs are counted through a file in a volume, the layer through a file in the container.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { box, boxAsync, exitOf, until, sleep, STATE, removeAll, storeProcesses, SUPERVISOR_PROCS, boxCgroups, boxMounts, UNTIL_TERM } from '../helpers/box';

const vol = fs.mkdtempSync(path.join(os.tmpdir(), 'box-restart-'));
const record = (id: string) => JSON.parse(fs.readFileSync(path.join(STATE, 'containers', id, 'state.json'), 'utf8'));
const runs = (file: string) => { try { return fs.readFileSync(path.join(vol, file), 'utf8').split('\n').filter(Boolean).length; } catch { return 0; } };
const inspect = (ref: string, f: string) => box(['inspect', '-f', f, ref]).stdout.trim();
const detached = (args: string[]) => {
  const r = box(['run', '-d', ...args]);
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
};
// the container's processes (host view): every pid in its cgroups
const cgroupPids = (id: string) => boxCgroups().filter((d) => d.endsWith(id)).flatMap((d) => {
  try { return fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean); } catch { return []; }
});

test('--restart is checked as Docker checks it (125, one line naming the problem)', () => {
  const cases: [string[], RegExp][] = [
    [['--rm', '--restart', 'always'], /Conflicting options: --restart and --rm/],
    [['--restart', 'sometimes'], /invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'/],
    [['--restart', 'always:3'], /maximum retry count can only be used with 'on-failure'/],
    [['--restart', 'on-failure:x'], /maximum retry count must be an integer/],
    [['--restart', 'on-failure:-1'], /maximum retry count cannot be negative/],
  ];
  for (const verb of ['run', 'create']) {
    for (const [flags, msg] of cases) {
      const r = box([verb, ...flags, 'busybox', 'true']);
      assert.is(r.status, 125, `${verb} ${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.is(r.stderr.trim().split('\n').length, 1);
    }
  }
  assert.is(box(['run', '--rm', '--restart', 'no', 'busybox', 'true']).status, 0, '--rm with "no" is fine');
});

test('on-failure:2 runs exit 3 exactly three times, then stays exited with 3', async () => {
  try {
    const id = detached(['--name', 'rs-of', '-v', `${vol}:/v`, '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run >> /v/of; exit 3']);
    await until(() => record(id).status === 'exited', 20000, 'the last exit');
    await sleep(1000); // a fourth run would come within this (its backoff would be 400 ms)
    assert.is(runs('of'), 3);
    assert.is(inspect('rs-of', '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}} {{json .HostConfig.RestartPolicy}}'), 'exited 3 2 {"Name":"on-failure","MaximumRetryCount":2}');
    assert.is(box(['logs', 'rs-of']).stdout, '', 'nothing written to stdout');
    // on-failure does not restart after a clean exit
    detached(['--name', 'rs-of0', '-v', `${vol}:/v`, '--restart', 'on-failure', 'busybox', 'sh', '-c', 'echo run >> /v/of0']);
    await until(() => inspect('rs-of0', '{{.State.Status}}') === 'exited', 20000, 'the exit');
    await sleep(500);
    assert.is(runs('of0'), 1);
  } finally {
    removeAll('rs-of', 'rs-of0');
  }
});

test('always restarts after exit 0 until box stop; the stop is not followed by a restart; same id, layer, log', async () => {
  try {
    const id = detached(['--name', 'rs-al', '-v', `${vol}:/v`, '--restart', 'always', 'busybox', 'sh', '-c', `echo run >> /v/al; echo x >> /layer; wc -l < /layer; [ $(wc -l < /layer) -ge 3 ] && exec sh -c '${UNTIL_TERM}'; exit 0`]);
    await until(() => runs('al') >= 3 && record(id).status === 'running', 20000, 'three runs');
    assert.is(box(['logs', 'rs-al']).stdout.split(/\s+/).filter(Boolean).join(' '), '1 2 3', 'the layer and the log carry over');
    assert.is(inspect('rs-al', '{{.RestartCount}}'), '2');
    const before = runs('al');
    assert.is(box(['stop', 'rs-al']).status, 0);
    assert.is(record(id).status, 'exited');
    await sleep(1000);
    assert.is(runs('al'), before, 'no restart after stop');
    assert.is(inspect('rs-al', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 0');
    // box start: running again, the count reset (Docker), the layer still there
    assert.is(box(['start', 'rs-al']).stdout, 'rs-al\n');
    await until(() => record(id).status === 'running' && runs('al') > before, 20000, 'the start');
    assert.is(inspect('rs-al', '{{.RestartCount}}'), '0');
    assert.ok(box(['logs', 'rs-al']).stdout.trim().endsWith('4'), 'the fourth line in the same layer');
    // kill (SIGKILL) calls the restart off too, as Docker's kill
    assert.is(box(['kill', 'rs-al']).status, 0);
    await sleep(1000);
    assert.is(inspect('rs-al', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
  } finally {
    removeAll('rs-al');
  }
});

test('unless-stopped restarts after an exit, not after a stop', async () => {
  try {
    const id = detached(['--name', 'rs-us', '-v', `${vol}:/v`, '--restart', 'unless-stopped', 'busybox', 'sh', '-c', `echo run >> /v/us; [ $(wc -l < /v/us) -ge 2 ] && exec sh -c '${UNTIL_TERM}'; exit 5`]);
    await until(() => runs('us') === 2 && record(id).status === 'running', 20000, 'the restart after exit 5');
    assert.is(box(['stop', 'rs-us']).status, 0);
    await sleep(800);
    assert.is(runs('us'), 2);
    assert.is(inspect('rs-us', '{{.State.Status}} {{.RestartCount}}'), 'exited 1');
  } finally {
    removeAll('rs-us');
  }
});

test('ps shows Restarting during a backoff; inspect State.Restarting; wait returns at the exit; rm -f ends the loop at once', async () => {
  try {
    const id = detached(['--name', 'rs-loop', '-v', `${vol}:/v`, '--restart', 'always', 'busybox', 'sh', '-c', 'echo run >> /v/loop; exit 2']);
    const row = await until(() => box(['ps']).stdout.split('\n').find((l) => l.includes('rs-loop') && /Restarting \(2\) (Less than a second|\d+ seconds?) ago/.test(l)), 20000, 'Restarting in ps');
    assert.ok(row);
    await until(() => record(id).status === 'restarting', 20000, 'another backoff');
    const st = JSON.parse(box(['inspect', 'rs-loop']).stdout)[0].State;
    if (record(id).status === 'restarting') { assert.is(st.Restarting, true); assert.is(st.Status, 'restarting'); }
    assert.is(box(['wait', 'rs-loop']).stdout, '2\n', 'wait returns at an exit (Docker\'s waiters fire on restarting)');
    // the backoff is bounded and grows: 100 ms doubling, so ~7 runs in 10 s, not hundreds
    await sleep(2000);
    const n = runs('loop');
    assert.ok(n >= 4 && n <= 12, `${n} runs`);
    assert.is(box(['prune', '-f']).status, 0);
    assert.ok(fs.existsSync(path.join(STATE, 'containers', id)), 'prune leaves a restarting container');
    const t0 = Date.now();
    assert.is(box(['rm', 'rs-loop']).status, 1, 'rm of a restarting/running container needs -f');
    assert.is(box(['rm', '-f', 'rs-loop']).status, 0);
    assert.ok(Date.now() - t0 < 3000, `rm -f took ${Date.now() - t0} ms`);
    const after = runs('loop');
    await sleep(1000);
    assert.is(runs('loop'), after, 'no run after rm -f');
    assert.equal(boxCgroups().filter((d) => d.endsWith(id)), [], 'its cgroups');
  } finally {
    removeAll('rs-loop');
  }
});

test('box restart of a running and of an exited container keeps the layer; prints the names', async () => {
  try {
    const id = detached(['--name', 'rs-r', 'busybox', 'sh', '-c', `echo x >> /layer; ${UNTIL_TERM}`]);
    await until(() => record(id).status === 'running', 20000, 'running');
    const pid = record(id).pid;
    const r = box(['restart', '-t', '5', 'rs-r']);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'rs-r\n');
    assert.is(record(id).status, 'running');
    assert.is.not(record(id).pid, pid, 'a new PID 1');
    assert.is(box(['exec', 'rs-r', 'wc', '-l', '/layer']).stdout.trim(), '2 /layer');
    assert.is(box(['stop', 'rs-r']).status, 0);
    assert.is(box(['restart', id.slice(0, 12)]).stdout, `${id.slice(0, 12)}\n`);
    assert.is(box(['exec', 'rs-r', 'wc', '-l', '/layer']).stdout.trim(), '3 /layer');
    // fresh namespaces each run, the same limits
    const r2 = box(['restart', 'rs-r']);
    assert.is(r2.status, 0);
    assert.is(box(['restart', 'rs-nonesuch']).status, 1);
  } finally {
    removeAll('rs-r');
  }
});

test('restart: fresh namespaces, same cgroups and limits', async () => {
  try {
    const id = detached(['--name', 'rs-ns', '--pids-limit', '33', '-m', '64m', 'busybox', 'sh', '-c', UNTIL_TERM]);
    await until(() => record(id).status === 'running', 20000, 'running');
    const cg1 = record(id).cgroups;
    // (nsfs inode numbers are reused once freed: what a namespace holds tells old from new)
    assert.is(box(['exec', 'rs-ns', 'sh', '-c', 'touch /dev/shm/mark /tmp/layer-mark']).status, 0);
    assert.is(box(['restart', 'rs-ns']).status, 0);
    assert.is(box(['exec', 'rs-ns', 'ls', '/dev/shm/mark']).status, 1, 'a new mount namespace (its /dev/shm is new)');
    assert.is(box(['exec', 'rs-ns', 'ls', '/tmp/layer-mark']).status, 0, 'the same writable layer');
    assert.equal(record(id).cgroups, cg1);
    assert.is(box(['exec', 'rs-ns', 'cat', '/sys/fs/cgroup/pids/pids.max']).stdout.trim() || inspect('rs-ns', '{{.HostConfig.PidsLimit}}'), '33');
    const mem = cg1.find((d: string) => d.includes('/memory/'));
    if (mem) assert.is(fs.readFileSync(path.join(mem, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 << 20));
  } finally {
    removeAll('rs-ns');
  }
});

test('start -a of an exited container prints its output and returns its status; attached run --restart returns at the first exit', async () => {
  try {
    const id = detached(['--name', 'rs-a', '-v', `${vol}:/v`, 'busybox', 'sh', '-c', 'echo run >> /v/a; echo "out $(wc -l < /v/a)"; echo err >&2; exit 6']);
    await until(() => record(id).status === 'exited', 20000, 'the first exit');
    const r = box(['start', '-a', 'rs-a']);
    assert.is(r.status, 6, r.stderr);
    assert.is(r.stdout, 'out 2\n');
    assert.is(r.stderr, 'err\n');
    // attached with a policy: Docker's client returns the first exit's status; the daemon restarts on
    const a = box(['run', '--name', 'rs-att', '-v', `${vol}:/v`, '--restart', 'on-failure:1', 'busybox', 'sh', '-c', 'echo run >> /v/att; echo hello; exit 4']);
    assert.is(a.status, 4, a.stderr);
    assert.is(a.stdout, 'hello\n');
    await until(() => inspect('rs-att', '{{.State.Status}} {{.RestartCount}}') === 'exited 1', 20000, 'its one restart');
    assert.is(runs('att'), 2);
  } finally {
    removeAll('rs-a', 'rs-att');
  }
});

test('attached run --restart while the supervisor runs: never handed to it as a pooled run (it refused those: exit 125)', async () => {
  try {
    detached(['--name', 'rs-keep', 'busybox', 'sleep', '300']); // keeps the supervisor (and its pool) up
    const a = box(['run', '--name', 'rs-pool', '--restart', 'on-failure:1', 'busybox', 'sh', '-c', 'echo hi; exit 3']);
    assert.is(a.status, 3, a.stderr);
    assert.is(a.stdout, 'hi\n');
    await until(() => inspect('rs-pool', '{{.State.Status}} {{.RestartCount}}') === 'exited 1', 20000, 'its one restart');
  } finally {
    removeAll('rs-keep', 'rs-pool');
  }
});

test('attached run --restart: the client\'s SIGINT goes to the container and calls the restart off (sig-proxy)', async () => {
  try {
    const p = boxAsync(['run', '--name', 'rs-sig', '--restart', 'always', 'busybox', 'sh', '-c', 'trap "echo got-int; exit 130" INT; echo up; while :; do sleep 0.1; done']);
    let out = '';
    p.stdout!.on('data', (d) => { out += d; });
    const ended = exitOf(p);
    await until(() => out === 'up\n', 20000, 'the container\'s first line');
    p.kill('SIGINT');
    assert.equal(await ended, { code: 130, signal: null });
    assert.is(out, 'up\ngot-int\n');
    await sleep(800);
    assert.is(inspect('rs-sig', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}'), 'exited 0 130');
  } finally {
    removeAll('rs-sig');
  }
});

test('the supervisor SIGKILLed during a backoff and while the container runs: its successor carries on with the policy', async () => {
  try {
    // the runs take 0.5 s, so both a backoff and a run are there to be caught
    const id = detached(['--name', 'rs-kill', '-v', `${vol}:/v`, '--restart', 'always', 'busybox', 'sh', '-c', 'echo run >> /v/kill; sleep 0.5; exit 1']);
    await until(() => record(id).status === 'restarting', 20000, 'a backoff');
    const sup = record(id).owner.pid;
    process.kill(sup, 'SIGKILL');
    await until(() => storeProcesses(/box-supervisor/).every((p) => p !== sup), 10000, 'the supervisor to die');
    const n = runs('kill');
    box(['ps', '-a']); // a box that collects starts a successor, which adopts it
    await until(() => runs('kill') >= n + 2, 20000, 'runs under the successor');
    const sup2 = record(id).owner.pid;
    assert.is.not(sup2, sup);
    // and once more while it runs: adopted running, restarted at its exit
    await until(() => record(id).status === 'running', 20000, 'a run');
    process.kill(sup2, 'SIGKILL');
    await until(() => storeProcesses(/box-supervisor/).every((p) => p !== sup2), 10000, 'the second supervisor to die');
    const m = runs('kill');
    box(['ps', '-a']);
    await until(() => runs('kill') >= m + 2, 20000, 'runs under the third');
    assert.ok(record(id).restartCount >= 4, `${record(id).restartCount} restarts recorded`);
    assert.is(box(['rm', '-f', 'rs-kill']).status, 0);
  } finally {
    removeAll('rs-kill');
  }
});

test('a restart loop leaves nothing: no cgroups, mounts or processes of its runs', async () => {
  try {
    const id = detached(['--name', 'rs-leak', '--restart', 'always', 'busybox', 'false']);
    await until(() => (record(id).restartCount ?? 0) >= 5, 30000, 'five restarts');
    // between runs: its own cgroups only, and nothing in them
    assert.equal(boxCgroups().filter((d) => !d.endsWith(id)), []);
    assert.is(box(['rm', '-f', 'rs-leak']).status, 0);
    assert.equal(cgroupPids(id), []);
  } finally {
    removeAll('rs-leak');
  }
  assert.equal(boxCgroups(), []);
  assert.equal(boxMounts(), []);
  const left = () => storeProcesses(/\b__init\b|\b__exec\b|box-init/).concat(storeProcesses(SUPERVISOR_PROCS));
  await until(() => left().length === 0, 15000, 'the supervisor to exit');
});

test.after(() => fs.rmSync(vol, { recursive: true, force: true }));
test.run();
