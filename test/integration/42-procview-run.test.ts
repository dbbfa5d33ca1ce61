// The /proc view in real containers (issue 16 parts 2 and 4): every container's /proc/meminfo,
// cpuinfo, stat, uptime, loadavg, swaps, diskstats and /sys/devices/system/cpu/online are
// FUSE files served by the host process that runs it (lib/procview/host.ts, mux.ts), one
// connection per file, mounted by the stage over the real file. Cold runs, pooled runs on the
// supervisor, `run -d` + `exec`; --proc-view=false; the supervisor's SIGKILL (ENOTCONN, never a
// hang or EIO) and the view back once a successor adopts the container; nothing left after.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { box, until, STATE, removeAll, storeProcesses, SUPERVISOR_PROCS, UNTIL_TERM, needs } from '../helpers/box';

const LIMITS = ['-m', '256m', '--cpus', '1', '--cpuset-cpus', '0'];
const record = (id: string) => JSON.parse(fs.readFileSync(path.join(STATE, 'containers', id, 'state.json'), 'utf8'));
const memTotal = (text: string) => Number(/^MemTotal:\s+(\d+) kB/m.exec(text)?.[1]);
const hostMounts = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - fuse box-view /.test(l));
const PROBE = 'cat /proc/meminfo; echo "CPUS $(grep -c ^processor /proc/cpuinfo)"; echo "ONLINE $(cat /sys/devices/system/cpu/online)"; echo "UPTIME $(cat /proc/uptime)"; echo "VIEWS $(grep -c " - fuse box-view " /proc/self/mountinfo)"';
const hasFuse = fs.existsSync('/dev/fuse');
const t = needs(test, hasFuse, 'no /dev/fuse on this host');

/** `out` of a container that took `tookS` seconds from `box run` to exit (its uptime must be within that: a slow host, the TCG guests, takes seconds to start one). */
function checkLimited(out: string, what: string, tookS = 5) {
  assert.is(memTotal(out), 262144, `${what}: MemTotal is the limit\n${out}`);
  assert.match(out, /^CPUS 1$/m, `${what}: one CPU in cpuinfo`);
  assert.match(out, /^ONLINE 0$/m, `${what}: cpu/online`);
  const up = Number(/^UPTIME (\S+)/m.exec(out)![1]);
  assert.ok(up <= tookS + 1, `${what}: uptime since the container started (${up} s; the run took ${tookS.toFixed(1)} s)`);
  assert.match(out, /^VIEWS 8$/m, `${what}: eight view files`);
}

t('a cold run sees its limits; --proc-view=false the host\'s; a memory hog moves MemFree', () => {
  const hostUp = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const t0 = Date.now();
  const r = box(['run', '--rm', ...LIMITS, 'busybox', 'sh', '-c', PROBE]);
  const took = (Date.now() - t0) / 1000;
  assert.is(r.status, 0, r.stderr);
  checkLimited(r.stdout, 'cold', took);
  assert.ok(hostUp > took + 1, `the host has been up a while (${hostUp} s): the container's uptime is told apart from it`);
  const off = box(['run', '--rm', '--proc-view=false', ...LIMITS, 'busybox', 'sh', '-c', PROBE]);
  assert.is(off.status, 0, off.stderr);
  assert.is(memTotal(off.stdout), memTotal(fs.readFileSync('/proc/meminfo', 'utf8')), 'the host\'s MemTotal');
  assert.match(off.stdout, /^VIEWS 0$/m);
  // --privileged: no view, as no masks (a user namespace inside must be able to mount proc: test 21)
  const priv = box(['run', '--rm', '--privileged', ...LIMITS, 'busybox', 'sh', '-c', PROBE]);
  assert.is(priv.status, 0, priv.stderr);
  assert.match(priv.stdout, /^VIEWS 0$/m);
  // 32 MiB into /dev/shm (a tmpfs charged to the container's memory cgroup): MemFree drops by about that much on the next read
  const hog = box(['run', '--rm', '-m', '128m', 'busybox', 'sh', '-c', 'grep MemFree /proc/meminfo; dd if=/dev/zero of=/dev/shm/x bs=1M count=32 2>/dev/null; grep MemFree /proc/meminfo']);
  assert.is(hog.status, 0, hog.stderr);
  const [before, after] = [...hog.stdout.matchAll(/MemFree:\s+(\d+)/g)].map((m) => Number(m[1]));
  assert.ok(before - after >= 30 * 1024, `MemFree moved by the hog: ${before} → ${after}`);
  // a volume over one of the files (lxcfs's way) wins; the others are still the view
  const fake = path.join(STATE, 'pv-fake-meminfo');
  fs.writeFileSync(fake, 'MemTotal: 1 kB\n');
  try {
    const v = box(['run', '--rm', ...LIMITS, '-v', `${fake}:/proc/meminfo:ro`, 'busybox', 'sh', '-c', PROBE]);
    assert.is(v.status, 0, v.stderr);
    assert.is(memTotal(v.stdout), 1, 'the volume\'s file');
    assert.match(v.stdout, /^CPUS 1$/m);
    assert.match(v.stdout, /^VIEWS 7$/m);
  } finally { fs.rmSync(fake, { force: true }); }
  assert.is(hostMounts().length, 0, 'no view mounted on the host');
});

t('run -d + exec, a pooled run; SIGKILL of the supervisor: ENOTCONN, never a hang or EIO; back after adoption', async () => {
  const vol = fs.mkdtempSync(path.join(STATE, 'pv-'));
  try {
    const d = box(['run', '-d', '--name', 'pv-d', '-v', `${vol}:/out`, ...LIMITS, 'busybox', 'sh', '-c',
      `while :; do if head -1 /proc/meminfo >/out/now 2>/out/err; then echo ok >>/out/log; else cat /out/err >>/out/log; fi; sleep 0.1; done`]);
    assert.is(d.status, 0, d.stderr);
    const id = d.stdout.trim();
    const e = box(['exec', 'pv-d', 'sh', '-c', PROBE]);
    assert.is(e.status, 0, e.stderr);
    assert.is(memTotal(e.stdout), 262144, e.stdout);
    assert.match(e.stdout, /^CPUS 1$/m);
    assert.is(record(id).procView, true, 'the record says it has a view');
    // the supervisor runs it: a pooled run now
    const t0 = Date.now();
    const p = box(['run', '--rm', ...LIMITS, 'busybox', 'sh', '-c', PROBE]);
    assert.is(p.status, 0, p.stderr);
    checkLimited(p.stdout, 'pooled', (Date.now() - t0) / 1000);
    const sup = record(id).owner.pid;
    await until(() => fs.readFileSync(path.join(vol, 'log'), 'utf8').includes('ok'), 10000, 'the loop to read the view');
    process.kill(sup, 'SIGKILL');
    await until(() => !fs.existsSync(`/proc/${sup}`) || /\) Z/.test(fs.readFileSync(`/proc/${sup}/stat`, 'utf8')), 10000, 'the supervisor to die');
    fs.writeFileSync(path.join(vol, 'log'), '');
    await until(() => /Transport endpoint is not connected|Software caused connection abort/.test(fs.readFileSync(path.join(vol, 'log'), 'utf8')), 10000, 'reads to fail with ENOTCONN');
    const n = fs.readFileSync(path.join(vol, 'log'), 'utf8').split('\n').length;
    await until(() => fs.readFileSync(path.join(vol, 'log'), 'utf8').split('\n').length > n + 3, 10000, 'the loop to go on (no hang)');
    const log = fs.readFileSync(path.join(vol, 'log'), 'utf8');
    assert.not.match(log, /I\/O error/, 'never EIO');
    // box ps starts no supervisor by itself here: a detached run does, and it adopts pv-d
    assert.is(box(['ps']).status, 0);
    box(['run', '-d', '--rm', '--name', 'pv-kick', 'busybox', 'true']);
    await until(() => record(id).owner.pid !== sup, 30000, 'a successor to adopt pv-d');
    const again = await until(() => { const r = box(['exec', 'pv-d', 'head', '-1', '/proc/meminfo']); return r.status === 0 && memTotal(r.stdout) === 262144 ? r : undefined; }, 15000, 'the view back after adoption');
    assert.ok(again);
  } finally {
    removeAll('pv-d', 'pv-kick');
    fs.rmSync(vol, { recursive: true, force: true });
  }
  await until(() => storeProcesses(SUPERVISOR_PROCS).length === 0, 30000, 'the supervisor to exit');
  assert.is(hostMounts().length, 0, 'no box-view mount left on the host');
});

test.run();
