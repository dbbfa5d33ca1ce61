// sysinfo(2)'s view (issue 16 part 3) in real containers: every container with a seccomp
// profile gets box's sysinfo filter, and whoever runs it (the cold `box run`, the supervisor,
// `box exec`) answers its calls with the container's figures — under -m 256m --cpus 1
// --cpuset-cpus 0: busybox `free` (which calls sysinfo), `uptime`, and a static program that
// sizes itself as runtimes do (test/fixtures/sizes.c: sysconf and sysinfo), cold and pooled,
// through `box exec`; `--proc-view=false`, `--privileged` and `seccomp=unconfined` get the
// host's figures (the last two no filter at all, as Docker's); the supervisor's listeners do
// not pile up; after a SIGKILL of the supervisor the container runs on and its sysinfo fails
// with ENOSYS; and the JVM, where the host has one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { box, until, STATE, TOP, needs, removeAll, storeProcesses, SUPERVISOR_PROCS, UNTIL_TERM, CC } from '../helpers/box';
import { discover } from '../../lib/cgroup/discover';
import { sysinfoViewSupport } from '../../lib/seccomp/sysinfo-filter';

const MiB = 1024 * 1024;
const LIMITS = ['-m', '256m', '--cpus', '1', '--cpuset-cpus', '0'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-sysinfo-run-'));
const SIZES = path.join(tmp, 'sizes');
const support = process.geteuid!() === 0 ? sysinfoViewSupport() : { ok: false, why: 'needs root' };
const cc = support.ok ? spawnSync(CC, ['-static', '-O', '-o', SIZES, path.join(TOP, 'test/fixtures/sizes.c')], { encoding: 'utf8' }) : undefined;
const ok = support.ok && cc?.status === 0 && discover().mode !== 'none';
const reason = !support.ok ? `no sysinfo view here: ${support.why}` : cc?.status !== 0 ? `cannot build the probe: ${cc?.stderr || cc?.error}` : 'no cgroup hierarchy mounted';
const it = needs(test, ok, reason);
const T = ['-v', `${tmp}:/t:ro`];

interface Sizes { cpus: number; phys: number; sysinfo: number; errno: number; totalram: number; uptime: number; us?: number }
function parseSizes(out: string): Sizes {
  const line = out.split('\n').find((l) => l.startsWith('cpus='));
  assert.ok(line, `no line from the probe in: ${out}`);
  return Object.fromEntries(line!.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)])) as any;
}

/**
 * `free`'s Mem total (KiB), as busybox prints it from sysinfo: the column under "total", by
 * position — busybox's "used" is sysinfo's total − free − /proc/meminfo's Cached, which wraps
 * around when the two disagree (a 256 MiB sysinfo next to the host's /proc/meminfo) and then
 * runs into the total's digits.
 */
function freeTotal(out: string): number {
  const lines = out.split('\n');
  const head = lines.find((l) => /\btotal\b/.test(l)), mem = lines.find((l) => l.startsWith('Mem:'));
  return head && mem ? Number(mem.slice(4, head.indexOf('total') + 5).trim()) : NaN;
}
const seccompLine = (out: string) => /^Seccomp:\s*(\d+)/m.exec(out)?.[1];

/** One container: the probe, free, uptime and the Seccomp lines of its status, split by markers. */
const SCRIPT = '/t/sizes; echo ==; free; echo ==; uptime; echo ==; grep ^Seccomp /proc/self/status';
function report(out: string) {
  const [sizes, free, uptime, status] = out.split('==\n');
  return { sizes: parseSizes(sizes), free, uptime, status };
}

function run(flags: string[], name?: string) {
  const r = box(['run', ...(name ? ['--name', name] : ['--rm']), ...T, ...flags, 'busybox', 'sh', '-c', SCRIPT]);
  assert.is(r.status, 0, r.stderr);
  return report(r.stdout);
}

/** The container's own figures: 256 MiB from sysinfo (free in KiB), its own uptime, two filters (box's sysinfo one and the profile's). */
function assertView(r: ReturnType<typeof report>, what: string) {
  assert.is(r.sizes.sysinfo, 0, `${what}: ${JSON.stringify(r.sizes)}`);
  assert.is(r.sizes.totalram, 256 * MiB, what);
  assert.is(r.sizes.phys, 256 * MiB, `${what}: glibc's _SC_PHYS_PAGES comes from sysinfo`);
  assert.ok(r.sizes.uptime >= 0 && r.sizes.uptime < 30, `${what}: uptime ${r.sizes.uptime}`);
  assert.is(freeTotal(r.free), 262144, `${what}: ${r.free}`);
  assert.match(r.uptime, /up 0 min/, what);
  assert.is(seccompLine(r.status), '2', what);
  assert.match(r.status, /^Seccomp_filters:\s*2$/m, `${what}: the sysinfo filter and the profile's`);
}

/** The host's figures: what the kernel answers (os.totalmem() reads the same MemTotal). */
function assertHost(r: ReturnType<typeof report>, what: string) {
  assert.is(r.sizes.sysinfo, 0, what);
  assert.is(r.sizes.totalram, os.totalmem(), `${what}: ${JSON.stringify(r.sizes)}`);
  assert.is(freeTotal(r.free) * 1024, os.totalmem(), `${what}: ${r.free}`);
  assert.ok(r.sizes.uptime >= Math.floor(os.uptime()) - 5, `${what}: the host's uptime (${r.sizes.uptime})`);
}

const record = (id: string) => JSON.parse(fs.readFileSync(path.join(STATE, 'containers', id, 'state.json'), 'utf8'));
const idOf = (name: string) => box(['inspect', '-f', '{{.Id}}', name]).stdout.trim();
const ppid = (pid: number) => { try { const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]); } catch { return -1; } };
const running = (pid: number) => { try { return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };
/** The seccomp listener fds a process holds (`anon_inode:seccomp notify`), and all its fds. */
function fds(pid: number): { listeners: number; all: number } {
  const names = fs.readdirSync(`/proc/${pid}/fd`).map((f) => { try { return fs.readlinkSync(`/proc/${pid}/fd/${f}`); } catch { return ''; } });
  return { listeners: names.filter((n) => n === 'anon_inode:seccomp notify').length, all: names.length };
}

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

it('cold run (no supervisor): free shows 262144 KiB, uptime 0 min, the probe 256 MiB from sysinfo and sysconf; two filters', async () => {
  await until(() => !storeProcesses(SUPERVISOR_PROCS).length, 30000, 'no supervisor in this store (a cold run)');
  const r = run(LIMITS);
  console.log(`  cold, the view: ${JSON.stringify(r.sizes)}\n${r.free.replace(/^/gm, '    ')}    ${r.uptime.trim()}`);
  assertView(r, 'cold');
  assert.is(storeProcesses(SUPERVISOR_PROCS).length, 0, 'it was run by the client itself');
});

it('--proc-view=false: the host\'s figures, the profile\'s filter only', () => {
  const r = run([...LIMITS, '--proc-view=false']);
  console.log(`  --proc-view=false: ${JSON.stringify(r.sizes)}; free's total ${freeTotal(r.free)} KiB`);
  assertHost(r, '--proc-view=false');
  assert.is(seccompLine(r.status), '2');
  assert.match(r.status, /^Seccomp_filters:\s*1$/m);
});

it('--privileged and seccomp=unconfined: no filter at all (Seccomp 0, as Docker\'s) and the host\'s figures', () => {
  for (const flags of [['--privileged'], ['--security-opt', 'seccomp=unconfined']]) {
    const r = run([...LIMITS, ...flags]);
    assert.is(seccompLine(r.status), '0', `${flags}: ${r.status}`);
    assertHost(r, flags.join(' '));
  }
});

it('pooled run (the supervisor serves it), box exec into a detached container (the exec client serves it; exec -d gets no filter); the supervisor holds one listener per running container, none left after 20 runs', async () => {
  try {
    const keep = box(['run', '-d', '--name', 'si-keep', ...T, ...LIMITS, 'busybox', 'sh', '-c', UNTIL_TERM]);
    assert.is(keep.status, 0, keep.stderr);
    const sup = record(keep.stdout.trim()).owner.pid;
    const pooledStage = () => storeProcesses(/\b__init\b/).some((p) => ppid(p) === sup);
    await until(pooledStage, 30000, 'a pooled stage');
    const pooled = run(LIMITS, 'si-pooled');
    assert.is(record(idOf('si-pooled')).owner.pid, sup, 'the supervisor ran it (pooled)');
    assertView(pooled, 'pooled');

    const e = box(['exec', 'si-keep', 'sh', '-c', SCRIPT]);
    assert.is(e.status, 0, e.stderr);
    const ex = report(e.stdout);
    console.log(`  box exec: ${JSON.stringify(ex.sizes)}`);
    assertView(ex, 'exec');
    const d = box(['exec', '-d', 'si-keep', 'sh', '-c', 'grep ^Seccomp_filters /proc/self/status > /tmp/d']);
    assert.is(d.status, 0, d.stderr);
    await until(() => box(['exec', 'si-keep', 'cat', '/tmp/d']).stdout.trim(), 10000, 'exec -d to write');
    assert.match(box(['exec', 'si-keep', 'cat', '/tmp/d']).stdout, /^Seccomp_filters:\s*1$/m, 'exec -d: the profile\'s filter only (it outlives its client)');

    // the supervisor: si-keep's listener only, once each run's stage exited (and its fds as before)
    await until(() => fds(sup).listeners === 1 && pooledStage(), 20000, 'one listener (si-keep\'s)');
    const before = fds(sup).all;
    for (let i = 0; i < 20; i++) {
      const r = box(['run', '--rm', ...T, ...LIMITS, 'busybox', '/t/sizes']);
      assert.is(r.status, 0, r.stderr);
      assert.is(parseSizes(r.stdout).totalram, 256 * MiB);
    }
    assert.is(record(keep.stdout.trim()).owner.pid, sup, 'the same supervisor throughout');
    await until(() => fds(sup).listeners === 1 && fds(sup).all === before && pooledStage(), 20000, `the supervisor's fds as before the runs (${before})`).catch(() => {
      throw new Error(`after 20 runs the supervisor holds ${JSON.stringify(fds(sup))}, before ${before} fds`);
    });
    console.log(`  supervisor: ${before} fds before 20 pooled runs, ${fds(sup).all} after; listeners ${fds(sup).listeners}`);
  } finally {
    removeAll('si-keep', 'si-pooled');
  }
});

it('SIGKILL of the supervisor: the container runs on; its sysinfo fails at once with ENOSYS (busybox free does not hang), before and after another supervisor adopts it', async () => {
  const w = fs.mkdtempSync(path.join(tmp, 'w-'));
  // on each "goN" file: the probe and free, into outN
  const script = 'for n in 1 2; do while [ ! -e /w/go$n ]; do sleep 0.1; done; { /t/sizes; echo ==; free; echo "status $?"; } > /w/out$n 2>&1; done; ' + UNTIL_TERM;
  try {
    const d = box(['run', '-d', '--name', 'si-kill', ...T, '-v', `${w}:/w`, ...LIMITS, 'busybox', 'sh', '-c', script]);
    assert.is(d.status, 0, d.stderr);
    const id = d.stdout.trim();
    const pid1 = record(id).pid, sup = record(id).owner.pid;
    const e = box(['exec', 'si-kill', '/t/sizes']);
    assert.is(parseSizes(e.stdout).totalram, 256 * MiB, 'the view works before');
    process.kill(sup, 'SIGKILL');
    await until(() => !running(sup), 30000, 'the supervisor to die');
    fs.writeFileSync(path.join(w, 'go1'), '');
    const outFile = (n: number) => { try { const t = fs.readFileSync(path.join(w, `out${n}`), 'utf8'); return /status \d+/.test(t) && t; } catch { return false; } };
    const out1 = await until(() => outFile(1), 20000, 'the container to call sysinfo (it must not hang)');
    console.log(`  after SIGKILL of the supervisor:\n${out1.replace(/^/gm, '    ')}`);
    const s1 = parseSizes(out1);
    assert.is(s1.sysinfo, -1);
    assert.is(s1.errno, 38, 'ENOSYS');
    // busybox free ignores sysinfo's error (it prints what the struct held); it also reads
    // /proc/meminfo, whose view died with the supervisor too (ENOTCONN until a successor
    // reattaches it: test 42) — either way it returns, it never hangs
    assert.ok(/status 0/.test(out1) || /\/proc\/meminfo': Transport endpoint is not connected[^]*status 1/.test(out1), `busybox free returns: ${out1}`);
    assert.not.match(out1, /Input\/output error/, 'never EIO');
    assert.ok(running(pid1), 'the container runs on');
    // any box collects: a new supervisor adopts the container; its filter's listener is gone for good
    await until(() => { box(['ps']); return record(id).owner.pid !== sup && running(record(id).owner.pid); }, 30000, 'a new supervisor to adopt it');
    fs.writeFileSync(path.join(w, 'go2'), '');
    const out2 = await until(() => outFile(2), 20000, 'the second call');
    assert.is(parseSizes(out2).errno, 38, 'still ENOSYS after the adoption');
    assert.match(box(['ps']).stdout, /si-kill/, 'running');
    // an exec gets a filter and a listener of its own: its client serves it
    assert.is(parseSizes(box(['exec', 'si-kill', '/t/sizes']).stdout).totalram, 256 * MiB, 'box exec still sees the view');
  } finally {
    removeAll('si-kill');
  }
});

// The JVM: the host's, bound read-only into busybox (its loader and libraries are under /usr).
const JAVA_HOME = ['/usr/lib/jvm/java-17-openjdk-amd64', '/usr/lib/jvm/default-java'].find((d) => fs.existsSync(path.join(d, 'bin/java')));
const javaWhy = !JAVA_HOME ? `no JRE in /usr/lib/jvm (dpkg default-jre-headless: ${spawnSync('dpkg', ['-s', 'default-jre-headless'], { encoding: 'utf8' }).status === 0 ? 'installed' : 'not installed'})`
  : !fs.existsSync(path.join(JAVA_HOME, 'bin/javac')) ? `no javac beside ${JAVA_HOME}/bin/java to build the probe class`
  // a host whose /usr came from elsewhere (the test guests' 9p /usr without the host's /etc/java-*)
  : spawnSync(path.join(JAVA_HOME, 'bin/java'), ['-version'], { encoding: 'utf8' }).status !== 0 ? `${JAVA_HOME}/bin/java -version fails on this host`
  : !fs.existsSync(path.join(JAVA_HOME, 'conf/security/java.security')) ? `${JAVA_HOME}/conf/security/java.security is missing (Debian links it into /etc/java-*, which this host lacks)` : '';
needs(test, ok && !javaWhy, javaWhy || reason)('the JVM under -m 256m --cpus 1: 1 CPU and a heap sized from 256 MiB, with the view and with --proc-view=false (cgroupfs); with container support off, only the view keeps it from sizing by the host', () => {
  const jdir = path.join(tmp, 'j');
  fs.mkdirSync(jdir);
  fs.writeFileSync(path.join(jdir, 'Sizes.java'), 'public class Sizes { public static void main(String[] a) { Runtime r = Runtime.getRuntime(); System.out.println("availableProcessors=" + r.availableProcessors() + " maxMemory=" + r.maxMemory()); } }\n');
  const javac = spawnSync(path.join(JAVA_HOME!, 'bin/javac'), ['-d', jdir, path.join(jdir, 'Sizes.java')], { encoding: 'utf8' });
  assert.is(javac.status, 0, javac.stderr);
  const etc = fs.existsSync('/etc/java-17-openjdk') ? ['-v', '/etc/java-17-openjdk:/etc/java-17-openjdk:ro'] : [];
  const binds = ['-v', '/usr:/usr:ro', '-v', '/usr/lib:/lib:ro', ...(fs.existsSync('/usr/lib64') ? ['-v', '/usr/lib64:/lib64:ro'] : []), ...etc, '-v', `${jdir}:/j:ro`];
  const java = path.join(JAVA_HOME!, 'bin/java');
  const script = `${java} -XshowSettings:system -version 2>&1 | grep -E 'Provider|Effective CPU|Memory Limit'; ${java} -XX:+PrintFlagsFinal -version 2>/dev/null | grep -E ' (MaxHeapSize|ActiveProcessorCount) '; ${java} -cp /j Sizes; ${java} -XX:-UseContainerSupport -cp /j Sizes | sed 's/^/no-container-support: /'`;
  const out: Record<string, string> = {};
  for (const [what, flags] of [['view', []], ['--proc-view=false', ['--proc-view=false']]] as const) {
    const r = box(['run', '--rm', ...binds, '-m', '256m', '--cpus', '1', ...flags, 'busybox', 'sh', '-c', script]);
    assert.is(r.status, 0, `${what}: ${r.stderr}`);
    out[what] = r.stdout;
    console.log(`  JVM (${JAVA_HOME}), ${what}:\n${r.stdout.replace(/^/gm, '    ')}`);
    const m = /^availableProcessors=(\d+) maxMemory=(\d+)$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.is(Number(m![1]), 1, `${what}: one CPU (cgroupfs's quota)`);
    // the JVM's ergonomics: a quarter of the memory, but half when that is small (MinRAMPercentage)
    assert.ok(Number(m![2]) <= 128 * MiB, `${what}: max heap ${m![2]}`);
  }
  const off = (s: string) => Number(/^no-container-support: availableProcessors=\d+ maxMemory=(\d+)$/m.exec(s)?.[1]);
  assert.ok(off(out.view) <= 128 * MiB, `without container support, the view: ${off(out.view)}`);
  if (os.totalmem() > 1024 * MiB) assert.ok(off(out['--proc-view=false']) > 128 * MiB, 'without container support and without the view: sized by the host');
});

test.run();
