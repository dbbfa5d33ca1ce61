// The warm stage pool (lib/container/pool.ts) for real: containers run from pre-booted
// stages with pipes, with a terminal and with stdin; a pooled stage is alone in a fresh pid
// namespace while idle, is replaced when it dies idle, leaves nothing after close(), and
// dies with its owner (PR_SET_PDEATHSIG).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { lib, waiting, exists, pidNs } from '../helpers/library';
import { until, sleep, ENV, BOX, alive } from '../helpers/box';

const { StagePool, run, start } = lib;

async function pool(k: number) {
  const p = new StagePool(k);
  await until(() => p.pids.length === k && p.pids.every(waiting), 20000, 'idle stages waiting for a config');
  return p;
}

test('a pooled run with pipes: the pooled stage becomes the container; stdout, stderr, exit code; ps shows only its own processes', async () => {
  const p = await pool(1);
  try {
    const [pid] = p.pids;
    const c = await start({ image: 'busybox', command: ['sh', '-c', 'echo out; echo err >&2; ps -o pid,args; exit 7'], rm: true }, { pool: p });
    assert.is(c.pid, pid, 'PID 1 of the container is the pooled stage, exec\'d');
    let out = '', err = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { err += d; });
    assert.is(await c.wait(), 7);
    assert.is(err, 'err\n');
    const lines = out.trim().split('\n');
    assert.is(lines[0], 'out');
    const procs = lines.slice(2).map((l) => l.trim().split(/\s+/));
    assert.equal(procs.map((f) => f[0]), ['1', procs[1][0]], out);
    assert.ok(procs[0].slice(1).join(' ').startsWith('sh -c echo out'), out);
    assert.match(procs[1].slice(1).join(' '), /^(\{ps\} |ps)/, out); // busybox shows {comm} before a forked sh's args
  } finally {
    await p.close();
  }
});

test('a pooled run with stdin and with -t', async () => {
  const p = await pool(1);
  try {
    const piped = await run({ image: 'busybox', command: ['sh', '-c', 'cat; echo " done"'], rm: true }, { pool: p, input: 'typed' });
    assert.is(piped.stdout.toString(), 'typed done\n', `stderr: ${piped.stderr}`);
    await until(() => p.pids.length === 1 && waiting(p.pids[0]), 20000, 'a replacement');
    const [pid] = p.pids;
    const c = await start({ image: 'busybox', command: ['sh', '-c', 'tty; echo $TERM'], tty: true, rm: true }, { pool: p });
    assert.is(c.pid, pid, `the pooled stage (pool now: ${p.pids})`);
    await sleep(300); // read late: the command is over and its terminal gone (EIO); its output must still be there
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    const ended = new Promise((r) => c.stdout.on('end', r));
    assert.is(await c.wait(), 0);
    await ended;
    assert.is(out.replace(/\r/g, ''), '/dev/pts/0\nxterm\n');
  } finally {
    await p.close();
  }
});

// The mounts a container gets, as "mountpoint options fstype superoptions" (no ids: they differ per run)
const MOUNTS = 'while read -r _ _ _ _ mp opts rest; do echo "$mp $opts ${rest#*- }"; done < /proc/self/mountinfo | sed "s/,*lowerdir=[^ ]*//" | sort; cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range';

test('a pooled stage\'s /proc, /dev and /sys, made while it waited (lib/mount/prepared.ts): the same mounts, masks, read-only paths and sysctls as a cold run; a spec that needs them otherwise gets them made, and no spare one stays', async () => {
  const p = await pool(1);
  try {
    const variants: Record<string, unknown>[] = [{}, { privileged: true }, { shmSize: '8m' }, { sysctl: ['net.ipv4.ip_unprivileged_port_start=80'] }];
    for (const extra of variants) {
      const spec = { image: 'busybox', command: ['sh', '-c', MOUNTS], rm: true, ...extra };
      const cold = await run(spec, { pool: false });
      await until(() => p.pids.length === 1 && waiting(p.pids[0]), 20000, 'an idle stage');
      const idle = fs.readFileSync(`/proc/${p.pids[0]}/mountinfo`, 'utf8');
      for (const fsName of ['proc', 'dev', 'dev/pts', 'dev/shm', 'dev/mqueue', 'sys', 'proc/keys', 'proc/sys']) assert.match(idle, new RegExp(` \\S*/stage-fs/${fsName} `), `the idle stage prepared ${fsName}`);
      const pooled = await run(spec, { pool: p });
      assert.is(pooled.exitCode, 0, String(pooled.stderr));
      assert.is(pooled.stdout.toString(), cold.stdout.toString(), JSON.stringify(extra));
      const lines = pooled.stdout.toString().split('\n');
      assert.ok(!lines.some((l) => /stage-fs/.test(l)), 'the staging directory is not in the container');
      if (!Object.keys(extra).length) {
        assert.ok(lines.some((l) => l.startsWith('/proc/keys ')) && lines.some((l) => /^\/proc\/sys ro,/.test(l)), pooled.stdout.toString());
        assert.ok(lines.includes('0'), 'ip_unprivileged_port_start is 0 (Docker\'s default)');
      }
      if ('privileged' in extra) assert.ok(!lines.some((l) => l.startsWith('/proc/keys ')), 'no masks with --privileged');
      if ('shmSize' in extra) assert.ok(lines.some((l) => /^\/dev\/shm .*size=8192k/.test(l)), pooled.stdout.toString());
      if ('sysctl' in extra) assert.ok(lines.includes('80'), pooled.stdout.toString());
    }
  } finally {
    await p.close();
  }
});

test('an idle stage is alone in a fresh pid namespace (PID 1 there, not the owner\'s, not another stage\'s)', async () => {
  const p = await pool(2);
  try {
    const own = pidNs(process.pid).ns;
    const seen = p.pids.map((pid) => pidNs(pid));
    for (const s of seen) {
      assert.is(s.nspid.length, pidNs(process.pid).nspid.length + 1);
      assert.is(s.nspid[s.nspid.length - 1], 1);
      assert.is.not(s.ns, own);
    }
    assert.is.not(seen[0].ns, seen[1].ns);
  } finally {
    await p.close();
  }
});

test('a stage killed while idle is dropped and replaced, and the next run uses the replacement', async () => {
  const p = await pool(1);
  try {
    const [dead] = p.pids;
    process.kill(dead, 'SIGKILL');
    const next = await until(() => p.pids.length === 1 && p.pids[0] !== dead && waiting(p.pids[0]) && p.pids[0], 20000, 'a replacement');
    await until(() => !exists(dead), 5000, 'the killed stage reaped');
    const c = await start({ image: 'busybox', command: ['true'], rm: true }, { pool: p });
    assert.is(c.pid, next);
    assert.is(await c.wait(), 0);
  } finally {
    await p.close();
  }
});

test('a run whose creation fails after it took the pooled stage (and joined it to the cgroups): the stage is ended, the pool replaces it', async () => {
  const p = await pool(1);
  try {
    const [pid] = p.pids;
    let err: any;
    // the volume's host dir cannot be made (below a file: ENOTDIR): that fails after the cgroups exist (the stage joins them then)
    try { await run({ image: 'busybox', command: ['true'], rm: true, volumes: ['/etc/hostname/box-no-such:/x'] }, { pool: p }); } catch (e) { err = e; }
    assert.ok(err, 'the run is refused');
    assert.is(err.code, 'invalid', err.message);
    await until(() => !alive(pid), 5000, `the taken stage ${pid} ended`);
    await until(() => p.pids.length === 1 && p.pids[0] !== pid && waiting(p.pids[0]), 20000, 'a replacement');
    const r = await run({ image: 'busybox', command: ['true'], rm: true }, { pool: p });
    assert.is(r.exitCode, 0, 'and the next run works');
  } finally {
    await p.close();
  }
});

test('close() leaves nothing: every idle stage killed and reaped, none made after', async () => {
  const p = await pool(3);
  const pids = p.pids;
  await p.close();
  for (const pid of pids) assert.not.ok(exists(pid), `stage ${pid} still in /proc`);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(p.pids, []);
});

test('the owner SIGKILLed: its idle stages die with it (PR_SET_PDEATHSIG, even stopped, so not by reading EOF)', async () => {
  const owner = spawn(process.execPath, [path.join(__dirname, '..', 'helpers', 'pool-owner.js'), '2'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...ENV, BOX_SELF: BOX } });
  try {
    let out = '';
    owner.stdout!.on('data', (d) => { out += d; });
    const pids: number[] = JSON.parse(await until(() => out.includes('\n') && out, 30000, 'the owner\'s pool'));
    assert.is(pids.length, 2);
    for (const pid of pids) process.kill(pid, 'SIGSTOP'); // a stopped stage cannot act on its channel's EOF
    owner.kill('SIGKILL');
    for (const pid of pids) await until(() => !alive(pid) || /^\S+ \(.*\) Z/.test(require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8')), 5000, `stage ${pid} killed by its owner's death`);
  } finally {
    owner.kill('SIGKILL');
  }
});

test.run();
