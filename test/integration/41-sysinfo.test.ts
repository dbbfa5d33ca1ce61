// sysinfo's view (issue 16 part 3) on the real kernel, without a container: a static probe
// (test/fixtures/sysinfo-probe.c) in a test cgroup (256 MiB) and a fresh pid namespace
// installs box's sysinfo filter (lib/seccomp/sysinfo-filter.ts) with a listener, passes the
// listener fd here over SCM_RIGHTS, and this process's SysinfoHandler answers its sysinfo
// calls. Then what the kernel does to a caller when nobody answers: measured and printed
// (it decides how the supervisor hosts the handler). The probe is always driven
// asynchronously: this process answers its calls, a synchronous wait would wait on itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { needs, sleep, CG_PARENT, TOP, CC } from '../helpers/box';
import { discover } from '../../lib/cgroup/discover';
import { cgroupManager, CgroupManager } from '../../lib/cgroup/manager';
import { socketPair, recvFd } from '../../lib/libc/fdpass';
import { dup2 } from '../../lib/libc';
import { pollAsync, recvNotification } from '../../lib/libc/seccomp-notify';
import { sysinfoFilter, sysinfoNumbers, sysinfoViewSupport } from '../../lib/seccomp/sysinfo-filter';
import { SysinfoHandler } from '../../lib/procview/sysinfo-handler';

const MiB = 1024 * 1024;
const EPERM = 1, EBUSY = 16;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-sysinfo-'));
const PROBE = path.join(tmp, 'probe'), FILTER = path.join(tmp, 'filter.bpf');
const support = process.geteuid!() === 0 ? sysinfoViewSupport() : { ok: false, why: 'needs root' };
const cc = support.ok ? spawnSync(CC, ['-static', '-O', '-o', PROBE, path.join(TOP, 'test/fixtures/sysinfo-probe.c')], { encoding: 'utf8' }) : undefined;
const unshare = fs.existsSync('/usr/bin/unshare');
const ok = support.ok && cc?.status === 0 && discover().mode !== 'none';
const reason = !support.ok ? `no sysinfo view here: ${support.why}` : cc?.status !== 0 ? `cannot build the probe: ${cc?.stderr || cc?.error}` : 'no cgroup hierarchy mounted';
const it = needs(test, ok, reason);

let cg: CgroupManager | undefined, handler: SysinfoHandler | undefined;
const probes: ChildProcess[] = [];

interface Probe { p: ChildProcess; ready: any; listener: number; ask: (cmd: string, ms?: number) => Promise<any>; next: (ms?: number) => Promise<any> }

/** Start the probe in the test cgroup (and a new pid ns when unshare(1) is there); resolves with the listener fd it sent. */
async function startProbe(extra: string[] = []): Promise<Probe> {
  const [mine, theirs] = socketPair();
  const join = cg!.dirs.map((d) => `echo $$ > ${path.join(d, 'cgroup.procs')} || exit 99`).join('; ');
  const p = spawn('sh', ['-c', `${join}; exec ${unshare ? 'unshare --pid --fork --kill-child ' : ''}"$0" "$@"`, PROBE, FILTER, ...extra], { stdio: ['pipe', 'pipe', 'inherit', theirs] });
  probes.push(p);
  fs.closeSync(theirs);
  const lines: string[] = [];
  const waiters: ((l: string | undefined) => void)[] = [];
  let buf = '';
  p.stdout!.on('data', (d) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0;) { const l = buf.slice(0, i); buf = buf.slice(i + 1); const w = waiters.shift(); if (w) w(l); else lines.push(l); }
  });
  p.on('exit', () => { for (const w of waiters.splice(0)) w(undefined); });
  const next = (ms = 10000) => new Promise<any>((resolve) => {
    if (lines.length) return resolve(JSON.parse(lines.shift()!));
    const t = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); resolve(undefined); }, ms);
    const w = (l: string | undefined) => { clearTimeout(t); resolve(l === undefined ? undefined : JSON.parse(l)); };
    waiters.push(w);
  });
  const ask = (cmd: string, ms?: number) => { p.stdin!.write(`${cmd}\n`); return next(ms); };
  const ready = await next(20000);
  try {
    assert.ok(ready?.ready, `the probe did not start: ${JSON.stringify(ready)}`);
    return { p, ready, listener: recvFd(mine), ask, next };
  } finally {
    fs.closeSync(mine);
  }
}

/** Tasks (threads) in the test cgroup now, as the kernel lists them. */
function cgroupTasks(): number {
  const v2 = discover().mode === 'v2';
  const dir = v2 ? cg!.dirs[0] : cg!.dirs.find((d) => /\/memory\//.test(d))!;
  return fs.readFileSync(path.join(dir, v2 ? 'cgroup.threads' : 'tasks'), 'utf8').split('\n').filter(Boolean).length;
}

test.before(() => {
  if (!ok) return;
  fs.writeFileSync(FILTER, sysinfoFilter());
  cg = cgroupManager(`sysinfo-${process.pid}`, discover(), CG_PARENT);
  cg.create();
  const r = cg.apply({ memory: 256 * MiB }, { privileged: true });
  assert.equal(r.warnings, []);
  handler = new SysinfoHandler({ log: (l) => console.error(l) });
});

test.after(async () => {
  // Even after a failure: the probes (by pid), the handler's fds, then the cgroup (destroy kills what is left), then the files.
  for (const p of probes) { try { p.kill('SIGKILL'); } catch { /* gone */ } }
  await handler?.close().catch(() => {});
  try { cg?.destroy(); } catch (e: any) { console.error(`sysinfo test: cgroup cleanup: ${e.message}`); }
  fs.rmSync(tmp, { recursive: true, force: true });
});

let probe: Probe | undefined;

it('in a 256 MiB cgroup: totalram 256 MiB (mem_unit 1), freeram = limit − usage, procs = the cgroup\'s tasks, loads scaled; getpid and uname untouched', async () => {
  probe = await startProbe();
  handler!.add(probe.listener);
  const s = await probe.ask('s');
  assert.ok(s, 'no answer within 10 s');
  assert.is(s.ret, 0, JSON.stringify(s));
  assert.is(s.mem_unit, 1);
  assert.is(s.totalram, 256 * MiB);
  assert.ok(s.freeram > 200 * MiB && s.freeram < 256 * MiB, `freeram ${s.freeram}`);
  assert.is(s.bufferram, 0);
  assert.is(s.procs, cgroupTasks(), `procs ${s.procs}`);
  assert.ok(s.procs >= 1 && s.procs <= 3, `procs ${s.procs} (sh exec'd unshare, and the probe)`);
  assert.ok(s.loads.every((l: number) => l >= 0 && l < (64 << 16)), `loads ${s.loads}`);
  assert.equal(await probe.ask('p'), { pid: unshare ? 1 : probe.ready.pid });
  assert.equal(await probe.ask('u'), { ret: 0, sysname: 'Linux' });
  assert.is(handler!.counts.answered, 1, 'only sysinfo reached the handler');
  const t = await probe.ask('t 200');
  console.log(`  sysinfo: ${probe.ready.native_us.toFixed(1)} µs unfiltered, ${t.us.toFixed(1)} µs answered by the handler (200 calls each; totalram ${s.totalram}, freeram ${s.freeram}, procs ${s.procs}, uptime ${s.uptime})`);
});

needs(test, ok && unshare, ok ? 'no unshare(1) to make a fresh pid namespace' : reason)('uptime counts from the init of the caller\'s fresh pid namespace (the probe), not the host\'s boot', async () => {
  const s = await probe!.ask('s');
  const hostUp = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  assert.ok(s.uptime >= 0 && s.uptime <= 10, `uptime ${s.uptime} s (host ${hostUp} s)`);
});

it('a 64 MiB allocation in the probe moves freeram by as much', async () => {
  const before = (await probe!.ask('s')).freeram;
  assert.equal(await probe!.ask('m 64'), { allocated: 64 });
  const after = (await probe!.ask('s')).freeram;
  console.log(`  freeram before ${before / MiB} MiB, after 64 MiB allocated ${(after / MiB).toFixed(1)} MiB`);
  assert.ok(before - after >= 60 * MiB && before - after < 80 * MiB, `moved by ${(before - after) / MiB} MiB`);
});

it('a bad pointer: -1 EFAULT, as the kernel would answer', async () => {
  assert.equal(await probe!.ask('b'), { ret: -1, errno: 14 });
  assert.is(handler!.counts.efault, 1);
});

/** A profile's own filter in miniature: sysinfo → `action`, all else allowed (native arch only: the probe is native). */
function profileFilter(action: number): Buffer {
  const nr = sysinfoNumbers()[0].nr;
  const prog = [[0x20, 0, 0, 0], [0x15, 0, 1, nr], [0x06, 0, 0, action], [0x06, 0, 0, 0x7fff0000]];
  const b = Buffer.alloc(prog.length * 8);
  prog.forEach(([c, jt, jf, k], i) => { b.writeUInt16LE(c, i * 8); b[i * 8 + 2] = jt; b[i * 8 + 3] = jf; b.writeUInt32LE(k >>> 0, i * 8 + 4); });
  return b;
}

it('a profile that denies sysinfo (ERRNO, loaded after the sysinfo filter) still denies it: the handler never sees the call', async () => {
  const deny = path.join(tmp, 'deny.bpf');
  fs.writeFileSync(deny, profileFilter(0x00050000 | EPERM));
  const p = await startProbe([deny]);
  try {
    handler!.add(p.listener);
    const before = { ...handler!.counts };
    assert.equal(await p.ask('b'), { ret: -1, errno: EPERM });
    assert.is((await p.ask('s')).errno, EPERM);
    assert.equal(handler!.counts, before);
  } finally {
    p.p.kill('SIGKILL');
  }
});

it('a second listener in the same filter chain (a profile with SCMP_ACT_NOTIFY) is refused with EBUSY', async () => {
  const allow = path.join(tmp, 'allow.bpf');
  fs.writeFileSync(allow, profileFilter(0x7fff0000));
  const p = await startProbe([allow, 'listener']);
  try {
    assert.is(p.ready.second, EBUSY);
  } finally {
    fs.closeSync(p.listener);
    p.p.kill('SIGKILL');
  }
});

it('fairness: while one caller floods the handler with sysinfo calls, another caller\'s calls are answered in their turn', async () => {
  const flood = probe!.ask('t 1000', 60000); // the first probe: 1000 calls back to back
  const other = await startProbe();
  handler!.add(other.listener);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) { const s = await other.ask('s'); assert.is(s?.ret, 0); times.push(s.us); }
  const f = await flood;
  console.log(`  during a flood of 1000 calls (${f?.us.toFixed(0)} µs each), another caller's sysinfo took ${times.map((t) => (t / 1000).toFixed(1)).join(', ')} ms`);
  assert.ok(Math.max(...times) < 100000, 'each under 100 ms');
  other.p.kill('SIGKILL');
});

it('the handler goes away (its listener fd closed): the caller\'s sysinfo fails at once with ENOSYS, other calls still work', async () => {
  const h = handler!;
  handler = undefined;
  await h.close();
  const s = await probe!.ask('s', 5000);
  console.log(`  no listener left: sysinfo ret ${s?.ret} errno ${s?.errno} in ${s?.us} µs`);
  assert.is(s?.ret, -1);
  assert.is(s.errno, 38, 'ENOSYS');
  assert.ok(s.us < 100000, `took ${s.us} µs`);
  assert.equal(await probe!.ask('u'), { ret: 0, sysname: 'Linux' });
});

it('a copy of the listener held elsewhere (a holder process\'s role): a call the handler received and never answered stays waiting after the handler\'s copy closes, until the last copy goes', async () => {
  const p = await startProbe();
  const used = new Set(fs.readdirSync('/proc/self/fd').map(Number));
  let copy = 100;
  while (used.has(copy)) copy++;
  dup2(p.listener, copy); // the holder's copy (close-on-exec is not needed: this process spawns nothing meanwhile but the probes, which close their fds)
  try {
    const waiting = p.ask('s', 30000);
    const ready = await new Promise<any>((r) => pollAsync([p.listener], r));
    assert.ok(ready?.[0].readable && recvNotification(p.listener), 'received');
    fs.closeSync(p.listener); // the handler dies mid-answer
    const early = await Promise.race([waiting, sleep(1000).then(() => 'blocked')]);
    assert.is(early, 'blocked', 'still waiting 1 s after the handler\'s copy closed');
    const closedAt = Date.now();
    fs.closeSync(copy);
    copy = -1;
    const s = await waiting;
    console.log(`  received by a handler that then died, a copy still held: waiting after 1 s; the last copy closed: errno ${s?.errno} after ${Date.now() - closedAt} ms`);
    assert.is(s?.errno, 38);
  } finally {
    if (copy >= 0) fs.closeSync(copy);
    p.p.kill('SIGKILL');
  }
});

it('nobody reads a held listener: the caller waits (killable); a notification received and never answered, then the fd closed (a handler that died mid-answer): ENOSYS at once', async () => {
  const p = await startProbe(); // no handler: this test holds the fd and reads it by hand
  try {
    const waiting = p.ask('s', 30000);
    const early = await Promise.race([waiting, sleep(1000).then(() => 'blocked')]);
    assert.is(early, 'blocked', 'a held, unread listener keeps the caller in sysinfo');
    const ready = await new Promise<any>((r) => pollAsync([p.listener], r));
    assert.ok(ready?.[0].readable);
    const n = recvNotification(p.listener);
    assert.ok(n && n.pid > 0, 'the notification');
    const closedAt = Date.now();
    fs.closeSync(p.listener);
    const s = await waiting;
    console.log(`  held and unread: still waiting after 1 s; received, then the fd closed unanswered: ret ${s?.ret} errno ${s?.errno} ${Date.now() - closedAt} ms after the close`);
    assert.is(s?.ret, -1);
    assert.is(s.errno, 38);
    assert.ok(Date.now() - closedAt < 2000);
  } finally {
    p.p.kill('SIGKILL');
  }
});

test.run();
