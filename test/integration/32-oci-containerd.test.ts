// containerd 1.6 alone, driven by ctr: its runc shim (io.containerd.runc.v2) pointed at the runtime
// under test with --runc-binary, which is what a Kubernetes RuntimeClass selects through the CRI
// config's BinaryName; and that CRI config itself, loaded by a private containerd (README "On Kubernetes").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { BIN, Containerd, Result, missing, runtimeUnderTest, cgroupDirOf, engineSuite } from '../helpers/engines';

const { t, engine } = engineSuite(test, missing('containerd', 'ctr', 'shim'), () => new Containerd(runtimeUnderTest()));
const ctr = (args: string[]): Result => engine().cli(args);
const ok = (r: Result, what: string) => {
  if (r.status !== 0) assert.unreachable(`${what}: exit ${r.status}\nstderr: ${r.stderr}\nstdout: ${r.stdout}\nruntime calls:\n${engine().calls().split('\n').slice(-20).join('\n')}`);
  return r.stdout;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(fn: () => T | undefined | false | null, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) { const v = fn(); if (v) return v; if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await sleep(50); }
}
const alive = (pid: number) => { try { return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };
const taskStatus = (id: string) => (ctr(['task', 'ls']).stdout.split('\n').find((l) => l.startsWith(`${id} `)) || '').trim().split(/\s+/);
const PATH = ['--env', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
// USR1 leaves a mark, TERM ends it with status 7; counts into /tmp/n
const COUNTER = 'trap "echo got > /tmp/usr1" USR1; trap "exit 7" TERM; i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done';
const id = `ctd-main-${process.pid}`;
let pid = 0, main: ChildProcess, mainExit: Promise<number>, mainErr = '';

t('ctr run: output and exit code through the runc shim and the runtime', () => {
  const one = `ctd-run-${process.pid}`;
  const r = ctr(['run', '--rm', ...PATH, ...engine().runFlags(one), one, 'sh', '-c', 'echo out; exit 4']);
  assert.is(r.status, 4, `${r.stderr}\n${engine().calls()}`);
  assert.is(r.stdout, 'out\n');
});

t('ctr run with limits and --seccomp: cgroup files, namespaces, seccomp from the host', async () => {
  engine();
  // not -d: this ctr waits for the task and exits with its status (ctr task delete prints none)
  main = spawn(BIN.ctr, ['--address', engine().sock, 'run', ...PATH, '--seccomp', '--memory-limit', String(64 * 1024 * 1024), '--cpus', '0.5', ...engine().runFlags(id), id, 'sh', '-c', COUNTER], { stdio: ['ignore', 'pipe', 'pipe'] });
  main.stderr!.on('data', (d) => { mainErr += d; });
  mainExit = new Promise((r) => main.on('exit', (code) => r(code ?? -1)));
  process.on('exit', () => { try { main.kill('SIGKILL'); } catch { /* gone */ } });
  pid = Number((await until(() => taskStatus(id)[2] === 'RUNNING' && taskStatus(id), 20000, `the task to run (${mainErr})`))[1]);
  assert.ok(alive(pid));
  assert.is(fs.readFileSync(`${cgroupDirOf(pid, 'memory')}/memory.limit_in_bytes`, 'utf8').trim(), String(64 * 1024 * 1024));
  assert.is(fs.readFileSync(`${cgroupDirOf(pid, 'cpu')}/cpu.cfs_quota_us`, 'utf8').trim(), '50000');
  assert.ok(cgroupDirOf(pid, 'memory')!.includes(engine().cgroupParent));
  for (const ns of ['pid', 'mnt', 'uts', 'ipc', 'net']) assert.is.not(fs.readlinkSync(`/proc/${pid}/ns/${ns}`), fs.readlinkSync(`/proc/self/ns/${ns}`), ns);
  assert.match(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /^Seccomp:\s+2$/m);
});

t('ctr task exec: output and exit code', () => {
  const r = ctr(['task', 'exec', '--exec-id', `e${process.pid}`, '--fifo-dir', engine().fifo, id, 'sh', '-c', 'cat /tmp/n >/dev/null && echo in; exit 5']);
  assert.is(r.status, 5, `${r.stderr}\n${engine().calls()}`);
  assert.is(r.stdout, 'in\n');
});

t('ctr task pause / resume: the counter stops, then moves', async () => {
  const n = () => Number(fs.readFileSync(`/proc/${pid}/root/tmp/n`, 'utf8'));
  ok(ctr(['task', 'pause', id]), 'pause');
  assert.is(fs.readFileSync(`${cgroupDirOf(pid, 'freezer')}/freezer.state`, 'utf8').trim(), 'FROZEN');
  const a = n();
  await sleep(500);
  assert.is(n(), a);
  ok(ctr(['task', 'resume', id]), 'resume');
  await until(() => n() > a, 10000, 'the counter to move');
});

t('ctr task kill -s SIGUSR1 runs the trap; kill (SIGTERM) ends it with 7; delete leaves nothing', async () => {
  ok(ctr(['task', 'kill', '-s', 'SIGUSR1', id]), 'kill USR1');
  await until(() => fs.existsSync(`/proc/${pid}/root/tmp/usr1`), 10000, 'the USR1 mark');
  const dirs = ['memory', 'cpu', 'pids', 'freezer'].map((c) => cgroupDirOf(pid, c)!);
  ok(ctr(['task', 'kill', id]), 'kill');
  assert.is(await mainExit, 7, `ctr run's status (the task's): ${mainErr}`);
  ok(ctr(['container', 'delete', id]), 'container delete');
  assert.not.ok(alive(pid));
  await until(() => dirs.every((d) => !fs.existsSync(d)), 10000, `cgroup dirs to go: ${dirs.filter((d) => fs.existsSync(d))}`);
  assert.equal(engine().stateEntries().flatMap((ns) => { try { return fs.readdirSync(`${engine().stateRoot}/${ns}`); } catch { return []; } }), []);
});

t('stop() leaves nothing of the instance', async () => {
  engine();
  // the shim really went through the runtime under test (the wrapper logs every call)
  for (const v of ['create', 'start', 'exec', 'kill', 'pause', 'resume', 'delete']) assert.match(engine().calls(), new RegExp(` ${v} `), `no '${v}' call`);
  assert.equal(await engine().stop(), []);
  assert.not.ok(fs.existsSync(engine().dir));
  assert.equal(engine().cgroupParents(), []);
});

// Item 6 of the issue: the CRI config a Kubernetes node would carry for a RuntimeClass `box`
// (README "On Kubernetes"), loaded by a real containerd: the CRI plugin accepts it and the
// dump shows the runtime's BinaryName. No kubelet here: nothing more of the CRI path is run.
const criConfig = (box: string) => [
  '[plugins."io.containerd.grpc.v1.cri".containerd]',
  '  default_runtime_name = "runc"',
  '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
  '  runtime_type = "io.containerd.runc.v2"',
  '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.box]',
  '  runtime_type = "io.containerd.runc.v2"',
  '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.box.options]',
  `  BinaryName = "${box}"`,
  '',
].join('\n');

t('CRI config with runtimes.box (BinaryName = box): containerd starts, the CRI plugin loads it', async () => {
  const box = runtimeUnderTest();
  const cri = new Containerd(box, { log: false, config: () => criConfig(box) });
  try {
    const d = spawnSync('/usr/bin/containerd', ['--config', `${cri.dir}/config.toml`, 'config', 'dump'], { encoding: 'utf8' });
    assert.is(d.status, 0, d.stderr);
    const section = d.stdout.split('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.box.options]')[1] || '';
    assert.match(section.split('\n[')[0], new RegExp(`BinaryName = "${box.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"`));
    await cri.start();
    const plugin = cri.cli(['plugins', 'ls']).stdout.split('\n').find((l) => /io\.containerd\.grpc\.v1\s+cri\s/.test(l)) || '';
    assert.match(plugin, /\sok\s*$/, `the CRI plugin did not load:\n${plugin}\n${cri.daemonLog().split('\n').filter((l) => /cri/.test(l)).join('\n')}`);
  } finally {
    assert.equal(await cri.stop(), []);
  }
});

test.run();
