// procview (lib/procview): the FUSE server on the real kernel, in this process, answering a
// child in a test cgroup (256 MiB, 1 CPU) with the cgroup's figures and everyone else with
// the host's. Readers are always other processes, spawned asynchronously: this process
// answers their requests, so a synchronous spawn here would wait on itself forever.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile, spawn, ChildProcess } from 'node:child_process';
import { needs, sleep, until, CG_PARENT } from '../helpers/box';
import { discover } from '../../lib/cgroup/discover';
import { cgroupManager, CgroupManager } from '../../lib/cgroup/manager';
import { ProcViewServer } from '../../lib/procview/server';
import { parseMeminfo } from '../../lib/procview/parse';
import { mount, umount2 } from '../../lib/libc';
import { MNT_DETACH, MS } from '../../lib/libc/constants';

const ok = process.geteuid!() === 0 && fs.existsSync('/dev/fuse') && discover().mode !== 'none';
const reason = process.geteuid!() !== 0 ? 'needs root' : !fs.existsSync('/dev/fuse') ? 'no /dev/fuse on this host' : 'no cgroup hierarchy mounted';
const TOP = path.join(__dirname, '..', '..');
const MiB = 1024 * 1024;

let mnt = '', server: ProcViewServer | undefined, cg: CgroupManager | undefined;
const extraMounts: string[] = [];

/** `sh -c cmd` as another process; its stdout (stderr appended when it fails). */
function sh(cmd: string, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<{ out: string; code: number; err: string }> {
  return new Promise((resolve) => execFile('sh', ['-c', cmd], { timeout: 20000, env: { ...process.env, ...opts.env } }, (e: any, out, err) => resolve({ out, err: e?.killed ? `${err}(killed: ${e.signal}, the 20 s timeout)` : err, code: e ? (e.code ?? 1) : 0 })));
}
/** The same, first moved into the test cgroup (every hierarchy). */
const inCg = (cmd: string) => sh(`for f in ${cg!.dirs.map((d) => path.join(d, 'cgroup.procs')).join(' ')}; do echo $$ > $f || exit 99; done; ${cmd}`);

test.before(async () => {
  if (!ok) return;
  mnt = fs.mkdtempSync('/tmp/box-procview-test-');
  cg = cgroupManager(`procview-${process.pid}`, discover(), CG_PARENT);
  cg.create();
  const r = cg.apply({ memory: 256 * MiB, nanoCpus: 1e9 }, { privileged: true });
  assert.equal(r.warnings, []);
  server = await ProcViewServer.start(mnt, { log: (l) => console.error(l) });
});

test.after(async () => {
  // Even after a failure: the mounts, then the cgroup (killing what is left in it), then the directories.
  if (server) await server.close().catch(() => {});
  for (const m of [mnt, ...extraMounts]) { try { umount2(m, MNT_DETACH); } catch { /* not mounted */ } }
  try { cg?.destroy(); } catch (e: any) { console.error(`procview test: cgroup cleanup: ${e.message}`); }
  for (const m of [mnt, ...extraMounts]) { try { fs.rmdirSync(m); } catch { /* gone */ } }
});

needs(test, ok, reason)('a process in a 256 MiB / 1 CPU cgroup: MemTotal 262144 kB, one processor, online "0", one cpu line in stat', async () => {
  const r = await inCg(`cat ${mnt}/proc/meminfo; echo ===; cat ${mnt}/proc/cpuinfo; echo ===; cat ${mnt}/sys/devices/system/cpu/online; echo ===; cat ${mnt}/proc/stat`);
  assert.is(r.code, 0, r.err);
  const [mem, cpu, online, stat] = r.out.split('===\n');
  assert.is(parseMeminfo(mem).get('MemTotal'), 262144);
  assert.ok(parseMeminfo(mem).get('MemFree')! < 262144);
  assert.is((cpu.match(/^processor\s*:/gm) ?? []).length, 1);
  assert.is(online, '0\n');
  assert.equal(stat.split('\n').filter((l) => /^cpu/.test(l)).map((l) => l.split(' ')[0]), ['cpu', 'cpu0']);
});

needs(test, ok, reason)('content is computed at each read: a 96 MiB allocation in the cgroup moves MemFree between two reads', async () => {
  const free = async () => parseMeminfo((await inCg(`cat ${mnt}/proc/meminfo`)).out).get('MemFree')!;
  const before = await free();
  // The hog: bounded (96 MiB under a 256 MiB limit), touched (Buffer.alloc fills it), killed by pid below.
  let hog: ChildProcess | undefined;
  try {
    hog = spawn('sh', ['-c', `for f in ${cg!.dirs.map((d) => path.join(d, 'cgroup.procs')).join(' ')}; do echo $$ > $f; done; exec "${process.execPath}" -e "const b = Buffer.alloc(96 << 20, 1); console.log('ready'); setTimeout(() => b, 30000)"`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let said = '';
    hog.stdout!.on('data', (d) => { said += d; });
    await until(() => said.includes('ready'), 15000, 'the hog to allocate');
    const during = await free();
    console.log(`  MemFree before ${before} kB, with the hog ${during} kB`);
    assert.ok(before - during > 90 * 1024, `MemFree fell by ${before - during} kB`);
  } finally {
    hog?.kill('SIGKILL');
  }
});

needs(test, ok, reason)('a process outside the cgroup sees the host\'s figures', async () => {
  const r = await sh(`cat ${mnt}/proc/meminfo; echo ===; cat ${mnt}/proc/cpuinfo; echo ===; cat ${mnt}/sys/devices/system/cpu/online`);
  const [mem, cpu, online] = r.out.split('===\n');
  // This process's own memory cgroup may have a limit on some hosts: then that is what it is shown.
  const own = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(fs.readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  const h = discover().v1.find((x) => x.controllers.includes('memory'));
  const ownLimit = h && own ? Number(/^hierarchical_memory_limit (\d+)/m.exec(fs.readFileSync(path.join(h.mountpoint, own, 'memory.stat'), 'utf8'))?.[1]) / 1024 : Infinity;
  const hostTotal = parseMeminfo(fs.readFileSync('/proc/meminfo', 'utf8')).get('MemTotal')!;
  assert.is(parseMeminfo(mem).get('MemTotal'), Math.min(hostTotal, ownLimit));
  assert.is((cpu.match(/^processor\s*:/gm) ?? []).length, (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm) ?? []).length);
  assert.is(online, fs.readFileSync('/sys/devices/system/cpu/online', 'utf8'));
});

needs(test, ok && fs.existsSync('/usr/bin/unshare'), 'needs root and unshare(1)')('uptime counts from the init of the caller\'s pid namespace', async () => {
  const r = await inCg(`unshare --pid --fork sh -c 'sleep 1; cat ${mnt}/proc/uptime'`);
  assert.is(r.code, 0, r.err);
  const up = Number(r.out.split(' ')[0]);
  assert.ok(up >= 0.9 && up < 10, `uptime ${r.out.trim()}`);
  const hostUp = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const outside = Number((await sh(`cat ${mnt}/proc/uptime`)).out.split(' ')[0]);
  assert.ok(Math.abs(outside - hostUp) < 5, 'the host\'s pid namespace: the host\'s uptime');
});

needs(test, ok, reason)('the other files answer in the cgroup; loadavg counts its own tasks; ls lists the tree; writes and unknown names refused', async () => {
  const r = await inCg(`cat ${mnt}/proc/loadavg ${mnt}/proc/swaps ${mnt}/proc/diskstats >/dev/null && cat ${mnt}/proc/loadavg; ls ${mnt}/proc; echo x > ${mnt}/proc/meminfo; echo "write=$?"; cat ${mnt}/proc/nothing; echo "missing=$?"`);
  const lines = r.out.split('\n');
  const total = Number(/ \d+\/(\d+) /.exec(lines[0])?.[1]);
  assert.ok(total >= 1 && total < 10, `tasks in the cgroup: ${lines[0]}`);
  assert.ok(['cpuinfo', 'diskstats', 'loadavg', 'meminfo', 'stat', 'swaps', 'uptime'].every((f) => lines.includes(f)), r.out);
  assert.ok(lines.includes('write=2') || lines.includes('write=1'), r.out);
  assert.match(r.err, /Read-only file system/);
  assert.ok(lines.includes('missing=1'), r.out);
});

needs(test, ok, reason)('read latency: procview\'s meminfo next to the host\'s /proc/meminfo (printed)', async () => {
  // Up to 500 reads of each or 3 s each, whichever comes first (a TCG guest is ~50× slower).
  const js = `const fs = require('fs'); const t = (f) => { const s = process.hrtime.bigint(); let i = 0; for (; i < 500 && process.hrtime.bigint() - s < 3e9; i++) fs.readFileSync(f); return [Number(process.hrtime.bigint() - s) / i / 1000, i]; }; t('/proc/meminfo'); t('${mnt}/proc/meminfo'); console.log(JSON.stringify({ host: t('/proc/meminfo'), fuse: t('${mnt}/proc/meminfo') }))`;
  const r = await inCg(`exec "${process.execPath}" -e "${js}"`);
  assert.is(r.code, 0, `exit ${r.code}: ${r.err}`);
  const { host, fuse } = JSON.parse(r.out);
  console.log(`  /proc/meminfo read: host ${host[0].toFixed(1)} µs (${host[1]} reads), procview ${fuse[0].toFixed(1)} µs (${fuse[1]} reads), from inside the cgroup`);
  // Relative to the host's read, not absolute: a TCG guest (vm/qemu) is ~100× slower than the machine (there: 9 ms and 112 ms).
  assert.ok(fuse[0] < 200 * host[0], 'within 200× of the host\'s own read');
});

needs(test, ok, reason)('the server dies (SIGKILL) while a reader is inside read(2): the reader gets ENOTCONN at once, later reads too, nothing hangs', async () => {
  const mnt2 = fs.mkdtempSync('/tmp/box-procview-test-');
  extraMounts.push(mnt2);
  const srv = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(TOP, 'test/fixtures/procview-server.ts'), 'mount', mnt2], { cwd: TOP, env: { ...process.env, PROCVIEW_SLOW_MS: '3000' }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let said = '';
    srv.stdout!.on('data', (d) => { said += d; });
    await until(() => said.includes('ready'), 90000, 'the server child to mount'); // generous: a tsx start-up in a TCG guest takes 10-20 s
    const t0 = Date.now();
    const reading = sh(`cat ${mnt2}/proc/meminfo`);
    await sleep(500); // the reader is now waiting for an answer the server takes 3 s to compute
    const killedAt = Date.now();
    srv.kill('SIGKILL');
    const r = await reading;
    const waited = Date.now() - killedAt;
    console.log(`  reader in read(2) when the server died: exit ${r.code} after ${waited} ms (${Date.now() - t0} ms in all): ${r.err.trim()}`);
    assert.is.not(r.code, 0);
    assert.match(r.err, /Transport endpoint is not connected|Software caused connection abort/);
    assert.ok(waited < 2000, 'failed at once, not after the server\'s 3 s');
    const again = await sh(`cat ${mnt2}/proc/meminfo`);
    console.log(`  a later read: exit ${again.code}: ${again.err.trim()}`);
    assert.match(again.err, /Transport endpoint is not connected/);
  } finally {
    srv.kill('SIGKILL');
    try { umount2(mnt2, MNT_DETACH); } catch { /* not mounted */ }
  }
});

needs(test, ok, reason)('a restartable server: while another process holds the /dev/fuse fd, the server\'s death does not end the connection; reads queue and a new server answers them — but a read the dead one had taken waits until killed', async () => {
  const mnt3 = fs.mkdtempSync('/tmp/box-procview-test-');
  extraMounts.push(mnt3);
  const fd = fs.openSync('/dev/fuse', 'r+'); // this process is the holder (the supervisor's role); it never reads the fd
  const kids: ChildProcess[] = [];
  const server = (fresh: boolean, slowMs: number) => new Promise<ChildProcess>((resolve, reject) => {
    const p = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(TOP, 'test/fixtures/procview-server.ts'), 'attach', mnt3, ...(fresh ? ['fresh'] : [])], { cwd: TOP, env: { ...process.env, PROCVIEW_SLOW_MS: String(slowMs) }, stdio: ['ignore', 'pipe', 'inherit', fd] });
    kids.push(p);
    p.stdout!.on('data', (d) => { if (String(d).includes('ready')) resolve(p); });
    p.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  /** `head -1 FILE` as its own process (killable by pid), with when it ended. */
  const reader = () => {
    const p = spawn('head', ['-1', `${mnt3}/proc/meminfo`], { stdio: ['ignore', 'pipe', 'pipe'] });
    kids.push(p);
    let out = '';
    p.stdout!.on('data', (d) => { out += d; });
    return { p, done: new Promise<{ code: number | null; out: string; at: number }>((r) => p.on('exit', (code) => r({ code, out, at: Date.now() }))) };
  };
  try {
    mount('box-procview', mnt3, 'fuse', MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, `fd=${fd},rootmode=40555,user_id=0,group_id=0,allow_other,default_permissions`);
    const s1 = await server(true, 3000);
    assert.match((await reader().done).out, /^MemTotal:/);
    const inflight = reader();
    await sleep(500); // inside read(2), its request taken by s1, which computes for 3 s
    s1.kill('SIGKILL');
    const queued = reader(); // no server runs: the request waits in the kernel's queue
    await sleep(1000);
    const restartAt = Date.now();
    await server(false, 0);
    const q = await queued.done;
    console.log(`  read queued while no server ran: exit ${q.code}, answered ${q.at - restartAt} ms after the restart began (a Node start-up)`);
    assert.is(q.code, 0);
    assert.match(q.out, /^MemTotal:/);
    assert.match((await reader().done).out, /^MemTotal:/);
    const r = await Promise.race([inflight.done, sleep(2000).then(() => undefined)]);
    console.log(`  the read taken by the dead server: ${r ? `ended (exit ${r.code})` : 'still waiting 2 s after the new server came (killed now)'}`);
    assert.is(r, undefined, 'its request is lost with the dead server: the reader waits (killable) — no timeout without the host\'s fuse request_timeout');
  } finally {
    for (const k of kids) k.kill('SIGKILL');
    try { umount2(mnt3, MNT_DETACH); } catch { /* not mounted */ }
    fs.closeSync(fd); // the last reference: the connection ends, anything still waiting gets ENOTCONN
  }
});

test.run();
