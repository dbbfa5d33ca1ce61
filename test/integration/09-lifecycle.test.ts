// Detached containers and their management: run -d, logs, exec (setns), stop, kill, rm,
// inspect, stats, top, ns, create/start, prune; supervisor faults; parallel runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { box, boxAsync, exitOf, until, alive, STATE, stateEntries, boxCgroups, removeAll, UNTIL_TERM } from '../helpers/box';
import { runInPty, PROMPT } from '../helpers/pty';

const state = (ref: string) => JSON.parse(box(['inspect', ref]).stdout)[0];
/** Alive and not a zombie (kill(pid, 0) succeeds on zombies). */
const running = (pid: number) => { try { return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };
const detached = (args: string[]) => {
  const r = box(['run', '-d', ...args]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  return r.stdout.trim();
};

test('run -d prints the id once running; logs (json-file), --tail, -t, -f', async () => {
  // The last line and the exit come only when the test says so (USR1): a timed end would race
  // the CLI calls below, which expect it running, on a slow host.
  try {
    const id = detached(['--name', 'lc-logs', 'busybox', 'sh', '-c', 'trap "echo four; exit 0" USR1; echo one; echo two >&2; echo three; while :; do sleep 0.1; done']);
    assert.is(state(id).State.Running, true);
    assert.match(box(['ps']).stdout, /lc-logs/);
    const file = path.join(STATE, 'containers', id, `${id}-json.log`);
    // one entry per chunk read from the container, so lines may share one
    const entries = () => { try { return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l)); } catch { return []; } };
    const stream = (name: string) => entries().filter((e) => e.stream === name).map((e) => e.log).join('');
    await until(() => stream('stdout') === 'one\nthree\n' && stream('stderr') === 'two\n', 30000, `the first lines in the json log (${JSON.stringify(entries())})`);
    for (const e of entries()) assert.equal(Object.keys(e).sort(), ['log', 'stream', 'time']);
    // -f prints what is there, then follows: "four" is written only after it has started
    const f = boxAsync(['logs', '-f', 'lc-logs']);
    let out = '', err = '';
    f.stdout!.on('data', (d) => { out += d; });
    f.stderr!.on('data', (d) => { err += d; });
    const closed = new Promise<number | null>((r) => f.on('close', r));
    await until(() => out === 'one\nthree\n' && err === 'two\n', 30000, `logs -f to print the first lines (${JSON.stringify(out)})`);
    assert.is(box(['kill', '-s', 'USR1', 'lc-logs']).status, 0);
    assert.is(await closed, 0, err); // follows until the container exits
    assert.is(out, 'one\nthree\nfour\n');
    assert.is(err, 'two\n');
    assert.is(box(['logs', '--tail', '1', 'lc-logs']).stdout, 'four\n');
    assert.match(box(['logs', '-t', 'lc-logs']).stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z one\n/);
    const st = state('lc-logs');
    assert.is(st.State.Status, 'exited');
    assert.is(st.State.ExitCode, 0);
    assert.is(box(['rm', 'lc-logs']).status, 0);
  } finally {
    removeAll('lc-logs');
  }
});

test('exec joins every namespace, the cgroups and the root of the container', async () => {
  try {
    // ends when removed, not on a timer: the checks below take longer than any timer on a loaded host
    const id = detached(['--name', 'lc-exec', '-h', 'exechost', '-e', 'FROM_RUN=1', 'busybox', 'sh', '-c', 'echo marker > /tmp/m; exec sleep 3600']);
    const pid = state(id).State.Pid;
    const out = box(['exec', 'lc-exec', 'sh', '-c', 'hostname; cat /tmp/m; echo $FROM_RUN; ps -o pid,comm | sed -n 2p; for n in ipc mnt net pid uts cgroup; do readlink /proc/self/ns/$n; done']);
    assert.is(out.status, 0, out.stderr);
    const [host, marker, env, ps1, ...nss] = out.stdout.trim().split('\n');
    assert.is(host, 'exechost');
    assert.is(marker, 'marker');
    assert.is(env, '1');
    assert.match(ps1, /^\s*1 sleep$/);
    assert.equal(nss, ['ipc', 'mnt', 'net', 'pid', 'uts', 'cgroup'].map((n) => fs.readlinkSync(`/proc/${pid}/ns/${n}`)));
    // the same mounts, the same cgroups
    assert.is(box(['exec', 'lc-exec', 'cat', '/proc/self/mountinfo']).stdout.split('\n').map((l) => l.split(' ')[4]).join(), fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').map((l) => l.split(' ')[4]).join());
    assert.is(box(['exec', 'lc-exec', 'sh', '-c', 'exit 7']).status, 7);
    assert.is(box(['exec', 'lc-exec', 'nosuch']).status, 127);
    assert.is(box(['exec', '-w', '/tmp', '-u', '1000:1000', '-e', 'X=y', 'lc-exec', 'sh', '-c', 'pwd; id -u; echo $X']).stdout, '/tmp\n1000\ny\n');
    assert.is(box(['exec', '-i', 'lc-exec', 'cat'], { input: 'piped\n' }).stdout, 'piped\n');
    // exec -d: runs on after box exec returns
    assert.is(box(['exec', '-d', 'lc-exec', 'sh', '-c', 'sleep 0.3; touch /tmp/detached']).status, 0);
    await until(() => box(['exec', 'lc-exec', 'ls', '/tmp/detached']).status === 0, 30000, 'exec -d to finish');
    assert.is(box(['rm', '-f', 'lc-exec']).status, 0);
  } finally {
    removeAll('lc-exec');
  }
});

test('exec -t: a pty from the container\'s devpts, with job control', async () => {
  detached(['--name', 'lc-exect', 'busybox', 'sleep', '3600']);
  const t = runInPty(['exec', '-it', 'lc-exect', 'sh'], 25, 90);
  try {
    await t.waitFor(PROMPT);
    t.write('tty; stty size\r');
    await t.waitFor(/\/dev\/pts\/\d+\r\n25 90\r\n/);
    t.write('sleep 20\r');
    await new Promise((r) => setTimeout(r, 300));
    t.write('\x03');
    t.write('exit 4\r');
    assert.is((await exitOf(t.proc)).code, 4);
    assert.not.match(t.output(), /can't access tty/);
    assert.is(box(['rm', '-f', 'lc-exect']).status, 0);
  } finally {
    t.close();
    removeAll('lc-exect');
  }
});

test('exec into a stopped or unknown container: a clear error', () => {
  try {
    const r = box(['run', '--name', 'lc-stopped', 'busybox', 'true']);
    assert.is(r.status, 0);
    const e = box(['exec', 'lc-stopped', 'true']);
    assert.is(e.status, 1); // Docker's status for exec on a stopped container
    assert.is(e.stderr, 'box exec: container lc-stopped is not running\n');
    assert.is(box(['exec', 'nosuchcontainer', 'true']).stderr, 'box: No such container: nosuchcontainer\n');
    assert.is(box(['rm', 'lc-stopped']).status, 0);
  } finally {
    removeAll('lc-stopped');
  }
});

test('stop: the stop signal, then SIGKILL after -t seconds; kill -s; rm refuses a running one', () => {
  try {
    // a PID-1 shell ignores SIGTERM (no handler): killed after 1 s
    detached(['--name', 'lc-stop', 'busybox', 'sh', '-c', 'while :; do sleep 0.1; done']);
    const t0 = Date.now();
    assert.is(box(['stop', '-t', '1', 'lc-stop']).stdout, 'lc-stop\n');
    const took = Date.now() - t0;
    assert.ok(took >= 1000 && took < 9000, `stop took ${took} ms`); // < the default -t 10 it replaced
    assert.is(state('lc-stop').State.ExitCode, 137);
    // one that handles it exits at once with its own status
    detached(['--name', 'lc-trap', 'busybox', 'sh', '-c', 'trap "exit 3" TERM; trap "echo usr1" USR1; while :; do sleep 0.1; done']);
    assert.is(box(['kill', '-s', 'USR1', 'lc-trap']).status, 0);
    const rmRunning = box(['rm', 'lc-trap']);
    assert.is(rmRunning.status, 1);
    assert.match(rmRunning.stderr, /container is running: stop the container before removing or force remove/);
    const t1 = Date.now();
    box(['stop', 'lc-trap']);
    assert.ok(Date.now() - t1 < 9000, `stop took ${Date.now() - t1} ms`); // not the 10 s timeout: the trap ended it
    const st = state('lc-trap');
    assert.is(st.State.ExitCode, 3);
    assert.match(box(['logs', 'lc-trap']).stdout, /usr1/);
    assert.is(box(['kill', 'lc-trap']).status, 1);
    assert.is(box(['rm', 'lc-stop', 'lc-trap']).status, 0);
  } finally {
    removeAll('lc-stop', 'lc-trap');
  }
});

test('inspect, stats, top and ns show Docker\'s shapes and the kernel\'s numbers', () => {
  try {
    const id = detached(['--name', 'lc-info', '-m', '64m', '--cpus', '0.5', '--pids-limit', '50', 'busybox', 'sh', '-c', 'sleep 3600 & exec sleep 3601']);
    const st = state(id);
    for (const k of ['Id', 'Created', 'Path', 'Args', 'State', 'Image', 'Name', 'HostConfig', 'Config']) assert.ok(k in st, k);
    for (const k of ['Status', 'Running', 'Pid', 'ExitCode', 'OOMKilled', 'StartedAt', 'FinishedAt']) assert.ok(k in st.State, k);
    assert.is(st.Name, '/lc-info');
    assert.is(st.HostConfig.Memory, 64 * 1024 * 1024);
    assert.is(st.HostConfig.NanoCpus, 5e8);
    assert.is(st.HostConfig.PidsLimit, 50);
    assert.equal(st.Config.Cmd, ['sh', '-c', 'sleep 3600 & exec sleep 3601']);
    const stats = box(['stats', '--no-stream', 'lc-info']).stdout.trim().split('\n');
    assert.match(stats[0], /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    assert.match(stats[1], new RegExp(`^${id.slice(0, 12)}\\s+lc-info\\s+[\\d.]+%\\s+[\\d.]+\\w+ / 64MiB\\s+[\\d.]+%\\s+.*\\s+2$`));
    const top = box(['top', 'lc-info']).stdout.trim().split('\n');
    assert.is(top.length, 3);
    const pids = top.slice(1).map((l) => Number(l.split(/\s+/)[1]));
    assert.ok(pids.includes(st.State.Pid));
    for (const p of pids) assert.ok(alive(p));
    const ns = JSON.parse(box(['ns', '--format', 'json', 'lc-info']).stdout);
    const byType = Object.fromEntries(ns.namespaces.map((n: any) => [n.type, n]));
    for (const t of ['pid', 'mnt', 'uts', 'ipc', 'net']) {
      assert.is(byType[t].shared, false, t);
      assert.is(`${t}:[${byType[t].container}]`, fs.readlinkSync(`/proc/${st.State.Pid}/ns/${t}`));
    }
    assert.is(byType.user.shared, true);
    assert.is(box(['rm', '-f', 'lc-info']).status, 0);
  } finally {
    removeAll('lc-info');
  }
});

test('create + start: set up, held before execve, then run', async () => {
  try {
    const r = box(['create', '--name', 'lc-create', 'busybox', 'sh', '-c', 'echo ran; sleep 3600']);
    assert.is(r.status, 0, r.stderr);
    const st = state('lc-create');
    assert.is(st.State.Status, 'created');
    assert.match(box(['ps', '-a']).stdout, /Created\s+lc-create/);
    assert.is(box(['logs', 'lc-create']).stdout, '');
    assert.is(box(['start', 'lc-create']).stdout, 'lc-create\n');
    assert.is(state('lc-create').State.Running, true);
    await until(() => box(['logs', 'lc-create']).stdout === 'ran\n', 30000, 'output');
    assert.is(box(['rm', '-f', 'lc-create']).status, 0);
    // a created container can be removed without -f, like Docker's
    assert.is(box(['create', '--name', 'lc-created', 'busybox', 'true']).status, 0);
    assert.is(box(['rm', 'lc-created']).status, 0);
  } finally {
    removeAll('lc-create', 'lc-created');
  }
});

test('faults: a SIGKILLed supervisor leaves its container running, the next box adopts it; rm -f and prune clean up', async () => {
  try {
    const id = detached(['--name', 'lc-fault', 'busybox', 'sleep', '3600']);
    const pid = state(id).State.Pid;
    const owner = () => JSON.parse(fs.readFileSync(path.join(STATE, 'containers', id, 'state.json'), 'utf8')).owner.pid;
    const sup = owner();
    process.kill(sup, 'SIGKILL');
    await until(() => !running(sup), 30000, 'the supervisor to die');
    assert.ok(running(pid), 'the container outlives its supervisor');
    assert.match(box(['ps']).stdout, /Up .*lc-fault/); // and box ps starts a successor that adopts it
    await until(() => owner() !== sup && running(owner()), 30000, 'a new supervisor to adopt the container');
    assert.is(box(['rm', '-f', 'lc-fault']).status, 0);
    assert.ok(!running(pid));
    assert.is(box(['run', '--name', 'lc-done', 'busybox', 'true']).status, 0);
    assert.is(box(['run', '-d', '--name', 'lc-done2', 'busybox', 'true']).status, 0);
    await until(() => state('lc-done2').State.Status === 'exited', 30000, 'lc-done2 to exit');
    // prune's count is the store's: anything an earlier test left would be counted too, so name it
    assert.is(stateEntries().length, 2, `the store holds more than lc-done and lc-done2: ${box(['ps', '-a']).stdout}`);
    // Docker's prompt: no answer (EOF) or 'n' removes nothing; 'y' or -f removes
    for (const input of ['', 'n\n']) {
      const no = box(['prune'], { input });
      assert.is(no.status, 0);
      assert.is(no.stdout, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
      assert.is(stateEntries().length, 2);
    }
    assert.match(box(['prune', '--help']).stdout, /^Usage: {2}box prune \[OPTIONS\]\n[^]*-f, --force/);
    assert.is(stateEntries().length, 2, '--help pruned');
    const pruned = box(['prune'], { input: 'y\n' });
    assert.match(pruned.stdout, /Total reclaimed: 2 containers/);
    assert.not.match(box(['ps', '-a']).stdout, /lc-fault|lc-done/);
  } finally {
    removeAll('lc-fault', 'lc-done', 'lc-done2');
  }
});

test('50 parallel box run --rm and box run -d: unique ids, a consistent store', async () => {
  const before = new Set(stateEntries());
  const procs = Array.from({ length: 50 }, (_, i) => {
    // the detached half runs until stopped below, so each run -d surely reports a running container
    const p = boxAsync(i % 2 ? ['run', '--rm', 'busybox', 'true'] : ['run', '-d', '--rm', 'busybox', 'sh', '-c', UNTIL_TERM]);
    let out = '';
    p.stdout!.on('data', (d) => { out += d; });
    let err = '';
    p.stderr!.on('data', (d) => { err += d; });
    // 'close', not 'exit': exit can come before the last stdout chunk is read
    return new Promise<{ code: number | null; out: string; err: string }>((r) => p.on('close', (code) => r({ code, out, err })));
  });
  const results = await Promise.all(procs);
  const ids = results.filter((_, i) => i % 2 === 0).map((r) => r.out.trim()).filter(Boolean);
  try {
    for (const r of results) assert.is(r.code, 0, r.err);
    assert.is(new Set(ids).size, 25);
    for (const [i, id] of ids.entries()) assert.match(id, /^[0-9a-f]{64}$/, JSON.stringify(results[i * 2]));
    assert.is(JSON.parse(box(['inspect', ...ids]).stdout).filter((c: any) => c.State.Running).length, 25, 'all 25 detached ones run');
    assert.is(box(['stop', ...ids]).status, 0);
    await until(() => stateEntries().filter((e) => !before.has(e)).length === 0, 60000, 'the stopped --rm containers to be removed');
    assert.equal(boxCgroups(), []);
  } finally {
    removeAll(...ids);
  }
});

test.run();
