// Container start-up benchmark: `box run --rm busybox true` next to `runc run` on an OCI bundle of
// the same rootfs, bare `unshare … chroot` (namespaces, no runtime) and `node -e 0` (Node's floor);
// and `box exec` into a running container next to `runc exec`. --baseline PATH times another box
// executable (e.g. a build of an older commit) in the same rounds, so a change's cost is measured
// side by side under the same load. Every box uses a private BOX_ROOT in a temp dir, never the user's store.
//   node --import tsx bench/startup.ts [--runs N] [--json] [--baseline PATH]   (root; runc/unshare are skipped if absent;
//   not `npx tsx`, whose parent SIGKILLs a child busy in spawnSync on Ctrl-C, before its clean-up)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeRuncCgroups, removeTmp } from './cleanup';
import { OciRuntime, CG_PREFIX, busyboxRootfs, onPath } from './oci-bundle';
import { quantile, ratio } from './stats';

const argv = process.argv.slice(2);
const runsArg = argv.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(argv[runsArg + 1]) : 30;
const JSON_OUT = argv.includes('--json');
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs wants a positive integer');
const baselineArg = argv.indexOf('--baseline');
const BASELINE = baselineArg >= 0 ? path.resolve(argv[baselineArg + 1] ?? '') : null;
if (BASELINE !== null) try { fs.accessSync(BASELINE, fs.constants.X_OK); } catch { throw new Error(`--baseline wants an executable box: ${BASELINE}`); }
if (process.geteuid!() !== 0) { console.error('bench/startup.ts: must run as root (box, runc and unshare need it)'); process.exit(1); }

const REPO = path.resolve(__dirname, '..');
const run = (cmd: string, args: string[], env = process.env) => spawnSync(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

// args(i) runs before the clock starts, so per-iteration set-up (runc's config) is not timed.
// vs: the row a case's `vs runc` column divides by (`runc`, or `runc exec` for the exec rows).
interface Case { name: string; cmd: string; args: (i: number) => string[]; env?: NodeJS.ProcessEnv; vs?: string; onFail?: (i: number) => void; times: number[]; failed: number }
const cases: Case[] = [];
const skipped: { name: string; reason: string }[] = [];
const add = (c: Omit<Case, 'times' | 'failed'>) => cases.push({ ...c, times: [], failed: 0 });


const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-bench-'));
const runc = new OciRuntime('runc', tmp);   // private state root and bundles in tmp
// The box executables under test, each with its own private store (BOX_ROOT) in tmp; id: the
// long-running container `box exec` enters, removed with `box rm -f` on the way out.
const boxes = [{ suffix: '', exe: path.join(REPO, 'box') }, ...(BASELINE ? [{ suffix: ' (baseline)', exe: BASELINE }] : [])]
  .map((b, n) => ({ ...b, env: { ...process.env, BOX_ROOT: path.join(tmp, `box-root-${n}`) }, id: '' }));
let setupFailed = false;   // a box that could not start its exec container fails the bench

// Ctrl-C / SIGTERM: finish the current call, then clean up. The handler only runs when the event loop
// turns, hence the setImmediate between calls (spawnSync alone would never let it run).
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { interrupted = true; });
const tick = () => new Promise((resolve) => setImmediate(resolve));

async function main() {
  // The same rootfs box uses for `busybox` (images/busybox.tar.gz), extracted once for runc and unshare.
  const rootfs = busyboxRootfs(tmp);

  for (const b of boxes) add({ name: `box${b.suffix}`, cmd: b.exe, env: b.env, args: () => ['run', '--rm', 'busybox', 'true'] });

  const noRunc = runc.unavailable();
  if (noRunc) skipped.push({ name: 'runc', reason: noRunc });
  else {
    add({ name: 'runc', cmd: 'runc',
      args(i) {   // a fresh container id and cgroup each iteration
        const id = runc.id(`run-${i}`);
        return runc.argv('run', '--bundle', runc.bundle(id, ['/bin/true']), id);
      },
      onFail: (i) => { runc.call('delete', '-f', runc.id(`run-${i}`)); },
    });
  }

  // `box exec` into one long-running container per box, started here (untimed).
  for (const b of boxes) {
    const r = run(b.exe, ['run', '-d', '--name', `box-bench-${process.pid}`, 'busybox', 'sleep', '100000'], b.env);
    b.id = r.status === 0 ? r.stdout.trim() : '';
    if (b.id) add({ name: `box exec${b.suffix}`, cmd: b.exe, env: b.env, vs: 'runc exec', args: () => ['exec', b.id, 'true'] });
    else { setupFailed = true; skipped.push({ name: `box exec${b.suffix}`, reason: `box run -d failed (exit ${r.status ?? r.signal}): ${r.stderr.trim()}` }); }
  }

  // `runc exec` into one container started with `runc run --detach` on the same bundle (untimed).
  if (cases.some((c) => c.name === 'runc')) {
    const execId = runc.id('exec');
    const bundle = runc.bundle(execId, ['/bin/sleep', '100000']);
    // Detached without a terminal, runc hands its own stdio to the container: pipes would keep
    // spawnSync waiting for an EOF that never comes, so stdin/stdout go nowhere and stderr to a file.
    const log = path.join(tmp, 'runc-detach.log');
    const fd = fs.openSync(log, 'w');
    const r = spawnSync('runc', runc.argv('run', '--detach', '--bundle', bundle, execId), { cwd: REPO, stdio: ['ignore', 'ignore', fd] });
    fs.closeSync(fd);
    if (r.status === 0) add({ name: 'runc exec', cmd: 'runc', vs: 'runc exec', args: () => runc.argv('exec', execId, '/bin/true') });
    else skipped.push({ name: 'runc exec', reason: `runc run --detach failed (exit ${r.status ?? r.signal}): ${fs.readFileSync(log, 'utf8').trim()}` });
  }

  if (onPath('unshare') && onPath('chroot')) add({ name: 'unshare+chroot', cmd: 'unshare', args: () => ['--pid', '--fork', '--mount', '--uts', '--ipc', '--net', 'chroot', rootfs, '/bin/true'] });
  else skipped.push({ name: 'unshare+chroot', reason: 'unshare or chroot not on PATH (util-linux, coreutils)' });

  add({ name: 'node -e 0', cmd: process.execPath, args: () => ['-e', '0'] });

  // One untimed warm-up round (page cache, box's first extraction of its image), then the timed rounds.
  // Round-robin A,B,C,A,B,C…: noise from the shared machine (other jobs, CPU frequency) then hits every
  // case alike instead of skewing whichever case happened to run during a busy stretch.
  for (let i = -1; i < RUNS && !interrupted; i++) {
    for (const c of cases) {
      if (interrupted) break;
      const args = c.args(i);
      const t0 = process.hrtime.bigint();
      const r = run(c.cmd, args, c.env);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      await tick();
      if (r.signal === 'SIGINT' || interrupted) { interrupted = true; c.onFail?.(i); break; }   // Ctrl-C hit the child too
      if (r.status === 0) { if (i >= 0) c.times.push(ms); continue; }
      if (c.failed++ === 0) console.error(`${c.name}: exit ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ''}\n${(r.stderr || '').trim()}`);
      c.onFail?.(i);
    }
  }

  // Peak RSS of box (ru_maxrss of the largest process in its tree, i.e. the node process), one extra run.
  let boxRssKb: number | null = null;
  if (!interrupted && fs.existsSync('/usr/bin/time')) {
    const r = run('/usr/bin/time', ['-f', '%M', boxes[0].exe, 'run', '--rm', 'busybox', 'true'], boxes[0].env);
    if (r.status === 0) boxRssKb = Number(r.stderr.trim().split('\n').pop());
  }

  const medianOf = (name: string) => quantile(cases.find((c) => c.name === name)?.times ?? [], 0.5);
  const results = cases.map((c) => {
    const median = quantile(c.times, 0.5);
    return { name: c.name, runs: c.times.length, failed: c.failed, median, p90: quantile(c.times, 0.9),
      min: c.times.length ? Math.min(...c.times) : null, vsRunc: ratio(median, medianOf(c.vs ?? 'runc')) };
  });
  // new/baseline median ratio, for `run` and `exec`: above 1 means the new box is slower.
  const vsBaseline = BASELINE ? { run: ratio(medianOf('box'), medianOf('box (baseline)')), exec: ratio(medianOf('box exec'), medianOf('box exec (baseline)')) } : null;

  if (JSON_OUT) console.log(JSON.stringify({ runs: RUNS, interrupted, baseline: BASELINE, results, skipped, vsBaseline, boxPeakRssKb: boxRssKb }, null, 2));
  else {
    const f = (x: number | null, d = 1) => (x === null ? '-' : x.toFixed(d));
    console.log(`\nstart-up, ${RUNS} interleaved runs each${interrupted ? ' (interrupted)' : ''}, ${os.cpus().length} CPUs, ${os.release()}`);
    console.log(`${'name'.padEnd(20)}${'median ms'.padStart(11)}${'p90 ms'.padStart(9)}${'min ms'.padStart(9)}${'vs runc'.padStart(9)}${'failed'.padStart(8)}`);
    for (const r of results) console.log(`${r.name.padEnd(20)}${f(r.median).padStart(11)}${f(r.p90).padStart(9)}${f(r.min).padStart(9)}${(r.vsRunc === null ? '-' : f(r.vsRunc, 2) + 'x').padStart(9)}${String(r.failed).padStart(8)}`);
    for (const s of skipped) console.log(`skipped ${s.name}: ${s.reason}`);
    const box = results.find((r) => r.name === 'box')!;
    if (box.vsRunc !== null) console.log(`\nbox/runc median ratio: ${box.vsRunc.toFixed(2)}x (${f(box.median)} ms vs ${f(medianOf('runc'))} ms)`);
    if (BASELINE) console.log(`new/baseline median ratio (${BASELINE}): ` + (['run', 'exec'] as const).map((k) =>
      `${k} ${vsBaseline![k] === null ? '-' : f(vsBaseline![k], 2) + 'x'} (${f(medianOf(k === 'run' ? 'box' : 'box exec'))} ms vs ${f(medianOf(k === 'run' ? 'box (baseline)' : 'box exec (baseline)'))} ms)`).join(', '));
    if (boxRssKb) console.log(`box peak RSS: ${(boxRssKb / 1024).toFixed(1)} MiB`);
  }
  process.exitCode = interrupted ? 130 : setupFailed || cases.some((c) => c.failed > 0) ? 1 : 0;
}

function cleanup() {
  // Leave nothing behind: the box exec containers (box removes their cgroups and its per-store parent),
  // any runc container still known to our private state, the cgroup dirs runc made under /box-bench
  // (and /box-bench itself if we created it), then the temp dir with the private stores.
  for (const b of boxes) if (b.id) { const r = run(b.exe, ['rm', '-f', b.id], b.env); if (r.status !== 0) console.error(`warning: box rm -f ${b.id} (${b.exe}): ${r.stderr.trim()}`); }
  runc.cleanup();
  removeRuncCgroups(CG_PREFIX);
  removeTmp(tmp);
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(cleanup);
