// What one container costs, box next to runc (and crun where it runs), in one interleaved run:
// `run --rm busybox true` from a cold CLI, from the CLI with a warm stage pool, from the Node
// library with a pool; `exec true` into a running container; `run -d` until it returns; `stop`
// of a PID 1 that exits on SIGTERM; and the memory each detached container keeps resident (box's
// own processes, PSS) at N=10 and N=100 next to podman's conmon. Issue 14 item 5, and the README's
// "Cost per container" table. Private stores and state roots in a temp dir; nothing left behind,
// also on Ctrl-C.
//   node --import tsx bench/cost.ts [--runs N] [--json] [--quick]   (root; a runtime or engine that is absent is skipped with the reason)
// (not `npx tsx`: its parent process SIGKILLs a child that does not answer a Ctrl-C within 30 ms,
// which a child blocked in spawnSync cannot, and the clean-up would never run)
import { spawn, spawnSync, StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { removeRuncCgroups, removeTmp } from './cleanup';
import { OciRuntime, CG_PREFIX } from './oci-bundle';
import { BoxStore, BOX } from './box-store';
import { quantile, ratio } from './stats';
import { cmdline } from './procs';
import { measureBox, measurePodman, MemRow } from './cost-memory';

// ---- Glue for features being built (issue 14): adapt these two functions when they land ----

/**
 * The "library via pool" row: box.mjs (ESM, next to ./box) imported into this warm process, a
 * StagePool made once, then `run(['--rm','busybox','true'], { pool })` per round. Returns the
 * runner, or why the row is skipped. BOX_ROOT is set first: the library reads it as it loads.
 */
async function libraryRunner(root: string): Promise<{ run(): Promise<string>; close(): Promise<void> } | string> {
  const file = path.join(path.dirname(BOX), 'box.mjs');
  if (!fs.existsSync(file)) return 'box.mjs not built (no Node library yet)';
  process.env.BOX_ROOT = root;
  let lib: any;
  // a real import(): tsx would turn a plain one into require(), which cannot load ESM on Node 20
  try { lib = await (new Function('u', 'return import(u)'))(pathToFileURL(file).href); } catch (e) { return `import box.mjs: ${(e as Error).message.split('\n')[0]}`; }
  if (typeof lib.run !== 'function') return 'box.mjs exports no run()';
  if (typeof lib.StagePool !== 'function') return 'box.mjs exports no StagePool (adapt libraryRunner() in bench/cost.ts)';
  const pool = new lib.StagePool(1);
  return {
    async run() {   // '' on success, else what went wrong
      const r = await lib.run(['--rm', 'busybox', 'true'], { pool });
      return r?.exitCode === 0 ? '' : `exit ${r?.exitCode}: ${String(r?.stderr ?? '').trim()}`;
    },
    async close() { await pool.close?.(); },
  };
}

/** The pid of the store's shared supervisor (the process that holds its warm pool), or 0 when none runs. */
function sharedSupervisor(store: BoxStore): number {
  return store.processes().find((p) => cmdline(p).some((a) => a.includes('__supervisor') || a.includes('box-supervisor'))) ?? 0;
}

/**
 * '' once the store's warm pool holds a stage, else why the "CLI via pool" row is skipped. A
 * pooled stage is a box process of the store that is neither its supervisor nor its anchor
 * (`box-anchor infinity`); the pool boots its stages after the supervisor starts, so wait a little.
 */
async function poolReady(store: BoxStore): Promise<string> {
  const sup = sharedSupervisor(store);
  if (!sup) return 'no shared supervisor after `box run -d` (no box process of the store with `__supervisor` in its command line)';
  for (let t = 0; t < 50; t++) {
    if (store.processes().some((p) => p !== sup && cmdline(p)[0] !== 'box-anchor')) return '';
    await sleep(100);
  }
  return `the shared supervisor (pid ${sup}) runs, but no pooled stage among the store's box processes after 5 s (BOX_POOL=0, or no pool yet)`;
}

// ---- options ----

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const JSON_OUT = argv.includes('--json');
const runsAt = argv.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(argv[runsAt + 1]) : QUICK ? 3 : 10;
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs wants a positive integer');
const NS = QUICK ? [2, 5] : [10, 100];   // detached containers for the memory rows
if (process.geteuid!() !== 0) { console.error('bench/cost.ts: must run as root (box, runc and podman need it)'); process.exit(1); }
if (!fs.existsSync(BOX)) { console.error(`bench/cost.ts: ${BOX} missing (npm run build)`); process.exit(1); }

// Ctrl-C / SIGTERM: stop at the next step, then clean up (children in our process group get it too).
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { interrupted = true; });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-bench-cost-'));
// cold: nothing detached ever runs there, and BOX_POOL=0, so no supervisor and no pool.
// warm: one detached container (`keep`) holds the store's supervisor (and its pool) up for the
// whole run; exec, run -d and stop run there too.
const cold = new BoxStore(path.join(tmp, 'box-cold'), { BOX_POOL: '0' });
const warm = new BoxStore(path.join(tmp, 'box-warm'));
const stores = [cold, warm];
const oci = [new OciRuntime('runc', tmp), new OciRuntime('crun', tmp)];
let library: Exclude<Awaited<ReturnType<typeof libraryRunner>>, string> | null = null;

// ---- timing ----

/** One timed step: ms taken, or the error that made it fail. */
type Step = { ms: number; error?: string };
const clock = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * Run a command and time it until it exits. stdio 'pipe' captures stdout (box run -d's id);
 * a runtime's `run -d` gets no pipes, since its container keeps them open (stderr to a file).
 */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, detach = false): Promise<Step & { stdout: string }> {
  return new Promise((resolve) => {
    const log = detach ? fs.openSync(path.join(tmp, 'detach.log'), 'w') : -1;
    const stdio: StdioOptions = detach ? ['ignore', 'ignore', log] : ['ignore', 'pipe', 'pipe'];
    const t0 = clock();
    const p = spawn(cmd, args, { env, stdio });
    let t1 = 0, stdout = '', stderr = '', code: number | null = null, signal: string | null = null;
    p.stdout?.on('data', (d) => { stdout += d; });
    p.stderr?.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.on('exit', (c, s) => { t1 = clock(); code = c; signal = s; });
    p.on('error', (e) => { stderr += e.message; });
    p.on('close', () => {
      clearTimeout(timer);
      if (detach) { fs.closeSync(log); stderr = fs.readFileSync(path.join(tmp, 'detach.log'), 'utf8'); }
      const ms = (t1 || clock()) - t0;
      resolve(code === 0 ? { ms, stdout } : { ms, stdout, error: `${cmd} ${args.join(' ')}: exit ${code ?? signal}: ${stderr.trim().slice(0, 500)}` });
    });
  });
}

/**
 * Wait until TERM_PID1 is parked in `wait`: a SIGTERM handler (SigCgt bit 15; before it, the
 * kernel drops SIGTERM to a pid-ns init), its `sleep` child forked, and itself asleep. A TERM
 * that lands between the trap and the `wait` can be held until the child ends (seen here once
 * in 11 rounds, with the handler check alone).
 */
async function parkedInWait(pid: number): Promise<string> {
  for (let t = 0; t < 200; t++) {
    try {
      const cgt = BigInt('0x' + ((fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^SigCgt:\s+(\w+)/m) || [])[1] ?? '0'));
      const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      const state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
      if (cgt & (1n << 14n) && children && state === 'S') return '';
    } catch { return `PID 1 (${pid}) is gone`; }
    await sleep(10);
  }
  return `PID 1 (${pid}) not waiting with a SIGTERM handler after 2 s`;
}

// PID 1 for the stop row: exits at once on SIGTERM (`wait` returns on a trapped signal; a
// foreground sleep would delay the trap until it ends).
const TERM_PID1 = ['sh', '-c', 'trap "exit 0" TERM; sleep 1d & wait'];
const TARGET = { cold: 4, pool: 2, library: 1 } as const;

type Runtime = 'box' | 'runc' | 'crun';
interface Variant {
  runtime: Runtime;
  /** untimed set-up of round i; returns an error or '' */
  before?: (i: number) => Promise<string>;
  run: (i: number) => Promise<Step>;
  /** untimed clean-up of round i (also after a failure) */
  after?: (i: number) => Promise<void>;
  times: number[]; failed: number; error?: string;
}
interface Row {
  key: string; title: string; target?: number;
  variants: Variant[];
  /** the row whose runc/crun measurement this one shares (the three `run --rm` rows) */
  sharesRefWith?: string;
  skipped: Partial<Record<Runtime, string>>;
}
const rows: Row[] = [];
const row = (key: string, title: string, target?: number, sharesRefWith?: string): Row => {
  const r: Row = { key, title, target, variants: [], skipped: {}, sharesRefWith };
  rows.push(r);
  return r;
};
const variant = (r: Row, runtime: Runtime, v: Omit<Variant, 'runtime' | 'times' | 'failed'>) => r.variants.push({ runtime, ...v, times: [], failed: 0 });

async function setup() {
  const coldRow = row('cold', '`run --rm true`, cold CLI', TARGET.cold);
  const poolRow = row('pool', '`run --rm true`, CLI via pool', TARGET.pool, 'cold');
  const libRow = row('library', '`run --rm true`, library via pool', TARGET.library, 'cold');
  const execRow = row('exec', '`exec ID true` into a running container');
  const detRow = row('detach', '`run -d` (until it returns)');
  const stopRow = row('stop', '`stop` (PID 1 exits on SIGTERM)');

  // box, cold store
  variant(coldRow, 'box', { run: () => timed(BOX, ['run', '--rm', 'busybox', 'true'], cold.env) });

  // box, warm store: the keeper container first (it is also the exec target)
  const keep = warm.sync('run', '-d', '--name', 'keep', 'busybox', 'sleep', '1d');
  if (!keep.ok) throw new Error(`box run -d (warm store) failed: exit ${keep.status}: ${keep.stderr.trim()}`);
  const keepId = keep.stdout.trim();
  const noPool = await poolReady(warm);
  if (!noPool) variant(poolRow, 'box', { run: () => timed(BOX, ['run', '--rm', 'busybox', 'true'], warm.env) });
  else poolRow.skipped.box = noPool;
  if (sharedSupervisor(cold)) console.error('warning: a supervisor runs for the cold store');

  const lib = await libraryRunner(warm.root);
  if (typeof lib === 'string') libRow.skipped.box = lib;
  else {
    library = lib;
    variant(libRow, 'box', { async run() { const t0 = clock(); const error = await lib.run(); return { ms: clock() - t0, error: error || undefined }; } });
  }

  variant(execRow, 'box', { run: () => timed(BOX, ['exec', keepId, 'true'], warm.env) });

  const detIds: string[] = [];
  variant(detRow, 'box', {
    async run(i) { const r = await timed(BOX, ['run', '-d', 'busybox', 'sleep', '1d'], warm.env); detIds[i + 1] = r.stdout.trim(); return r; },
    async after(i) { if (detIds[i + 1]) await warm.call('rm', '-f', detIds[i + 1]); },
  });

  const stopIds: string[] = [];
  variant(stopRow, 'box', {
    async before(i) {
      const r = await warm.call('run', '-d', 'busybox', ...TERM_PID1);
      if (!r.ok) return `box run -d: exit ${r.status}: ${r.stderr.trim()}`;
      stopIds[i + 1] = r.stdout.trim();
      return parkedInWait(warm.pidOf(stopIds[i + 1]));
    },
    run: (i) => timed(BOX, ['stop', stopIds[i + 1]], warm.env),
    async after(i) { if (stopIds[i + 1]) await warm.call('rm', '-f', stopIds[i + 1]); },
  });

  // runc and crun: the same busybox rootfs as an OCI bundle, private state roots
  for (const rt of oci) {
    const why = rt.unavailable() || probe(rt);
    if (why) { for (const r of rows) if (!r.sharesRefWith) r.skipped[rt.bin] = why; continue; }
    const bin = rt.bin;
    // `run` deletes the container when it exits; cleanup() catches one a failure left
    variant(coldRow, bin, { run: (i) => { const id = rt.id(`run-${i}`); return timed(bin, rt.argv('run', '--bundle', rt.bundle(id, ['/bin/true']), id)); } });

    const execId = rt.id('exec');
    const started = await timed(bin, rt.argv('run', '-d', '--bundle', rt.bundle(execId, ['/bin/sleep', '1d']), execId), process.env, true);
    if (started.error) execRow.skipped[bin] = started.error;
    else variant(execRow, bin, { run: () => timed(bin, rt.argv('exec', execId, '/bin/true')) });

    variant(detRow, bin, {
      run: (i) => { const id = rt.id(`detach-${i}`); return timed(bin, rt.argv('run', '-d', '--pid-file', path.join(tmp, `${id}.pid`), '--bundle', rt.bundle(id, ['/bin/sleep', '1d']), id), process.env, true); },
      async after(i) { rt.call('delete', '-f', rt.id(`detach-${i}`)); },
    });

    variant(stopRow, bin, {
      async before(i) {
        const id = rt.id(`stop-${i}`), pidFile = path.join(tmp, `${id}.pid`);
        const r = await timed(bin, rt.argv('run', '-d', '--pid-file', pidFile, '--bundle', rt.bundle(id, TERM_PID1), id), process.env, true);
        return r.error ?? parkedInWait(Number(fs.readFileSync(pidFile, 'utf8')));
      },
      // what `stop` means without an engine: send SIGTERM, then ask the runtime until it says stopped
      async run(i) {
        const id = rt.id(`stop-${i}`), t0 = clock();
        const k = await timed(bin, rt.argv('kill', id, 'TERM'));
        if (k.error) return k;
        while (rt.status(id) !== 'stopped') if (clock() - t0 > 30000) return { ms: clock() - t0, error: `${bin} state ${id}: not stopped after 30 s` };
        return { ms: clock() - t0 };
      },
      async after(i) { rt.call('delete', '-f', rt.id(`stop-${i}`)); },
    });
  }
}

/** '' when the runtime can run a container here; else why not (crun refuses cgroup v1 hybrid hosts). */
function probe(rt: OciRuntime): string {
  const id = rt.id('probe');
  const r = rt.call('run', '--bundle', rt.bundle(id, ['/bin/true']), id);
  rt.call('delete', '-f', id);
  return r.status === 0 ? '' : `${rt.bin} run failed: ${r.stderr.trim().split('\n').pop()}`;
}

/** One untimed warm-up round, then RUNS rounds, each running every row's variants in turn. */
async function rounds() {
  for (let i = -1; i < RUNS && !interrupted; i++) {
    console.error(i < 0 ? 'warm-up round' : `round ${i + 1}/${RUNS}`);
    for (const r of rows) for (const v of r.variants) {
      if (interrupted) return;
      let step: Step;
      try {
        const pre = v.before ? await v.before(i) : '';
        step = pre ? { ms: 0, error: `set-up: ${pre}` } : await v.run(i);
      } catch (e) { step = { ms: 0, error: (e as Error).message }; }   // a library that throws, say: a failed round, not the end
      if (v.after) await v.after(i).catch(() => {});
      if (interrupted) return;
      if (!step.error) { if (i >= 0) v.times.push(step.ms); continue; }
      if (v.failed++ === 0) { v.error = step.error; console.error(`${r.key} ${v.runtime}: ${step.error}`); }
    }
  }
}

// ---- report ----

function machine() {
  const model = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1]?.trim() || os.arch();
  const cg = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'cgroup v2' : 'cgroup v1 (hybrid)';
  const ver = (bin: string) => { const r = spawnSync(bin, ['--version'], { encoding: 'utf8' }); return r.status === 0 ? r.stdout.split('\n')[0].replace(/ version/, '') : `no ${bin}`; };
  return `${new Date().toISOString().slice(0, 10)}, ${model} × ${os.cpus().length} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, ${cg}, Node ${process.version}, ${ver('runc')}, ${ver('crun')}`;
}

const stat = (v?: Variant) => ({ median: quantile(v?.times ?? [], 0.5), p90: quantile(v?.times ?? [], 0.9), runs: v?.times.length ?? 0, failed: v?.failed ?? 0 });

function results() {
  return rows.map((r) => {
    const ref = r.sharesRefWith ? rows.find((x) => x.key === r.sharesRefWith)! : r;
    const by = (rt: Runtime) => (rt === 'box' ? r : ref).variants.find((v) => v.runtime === rt);
    const cells = Object.fromEntries((['box', 'runc', 'crun'] as const).map((rt) => [rt, { ...stat(by(rt)), skipped: (rt === 'box' ? r : ref).skipped[rt] ?? null }]));
    return { key: r.key, title: r.title, target: r.target ?? null, ...cells, boxVsRunc: ratio(cells.box.median, cells.runc.median) } as any;
  });
}

function markdown(res: ReturnType<typeof results>, mem: MemRow[], notes: string[], when: string) {
  const f = (x: number | null, d = 0) => (x === null ? '–' : x.toFixed(d));
  const x = (r: number | null) => (r === null ? '–' : `${r.toFixed(2)}×`);
  const out = [`Measured ${when}; ${RUNS} interleaved rounds${interrupted ? ' (interrupted)' : ''}, ms:`, '',
    '| | box median | box p90 | runc median | runc p90 | crun median | crun p90 | box / runc | target |', '|---|--:|--:|--:|--:|--:|--:|--:|--:|'];
  for (const r of res) {
    const cell = (c: any, k: 'median' | 'p90') => (c.skipped && k === 'median' ? 'skipped' : f(c[k]));
    out.push(`| ${r.title} | ${cell(r.box, 'median')} | ${cell(r.box, 'p90')} | ${cell(r.runc, 'median')} | ${cell(r.runc, 'p90')} | ${cell(r.crun, 'median')} | ${cell(r.crun, 'p90')} | ${x(r.boxVsRunc)} | ${r.target ? `≤ ${r.target}×` : ''} |`);
  }
  const mib = (kb: number | null) => (kb === null ? '–' : (kb / 1024).toFixed(kb < 10240 ? 2 : 1));
  out.push('', '| detached containers | box processes | box PSS total, MiB | box per container | conmon PSS total (podman + runc), MiB | conmon per container | box / conmon | target |', '|---|--:|--:|--:|--:|--:|--:|--:|');
  for (const n of NS) {
    const b = mem.find((m) => m.engine === 'box' && m.n === n), p = mem.find((m) => m.engine === 'podman' && m.n === n);
    for (const idle of [false, true]) {
      const kb = (m?: MemRow) => (m ? (idle ? m.idlePssKb : m.pssKb) : null);
      const per = (m?: MemRow) => (m ? kb(m)! / m.n : null);
      out.push(`| N=${n}, ${idle ? 'settled (pool let go, supervisor trimmed)' : '2 s after the last start'} | ${(idle ? b?.idleProcs : b?.procs) ?? '–'} | ${mib(kb(b))} | ${mib(per(b))} | ${mib(kb(p))} | ${mib(per(p))} | ${x(ratio(per(b), per(p)))} | ${idle && n === NS[NS.length - 1] ? '≤ 1×' : ''} |`);
    }
  }
  // one line per runtime and reason, naming the rows it hit
  const skips = new Map<string, string[]>();
  for (const r of rows) for (const [rt, why] of Object.entries(r.skipped)) skips.set(`${rt}: ${why}`, [...(skips.get(`${rt}: ${why}`) ?? []), r.title]);
  return [...out, '', ...notes.map((n) => `- ${n}`), ...[...skips].map(([k, titles]) => `- skipped ${k.split(':')[0]} (${titles.join('; ')}):${k.slice(k.indexOf(':') + 1)}`)].join('\n');
}

const NOTES = [
  'cold CLI: `box run --rm busybox true` in a store with no detached container and BOX_POOL=0 (no supervisor, no pool); CLI via pool: the same in a store where a detached `sleep 1d` keeps the supervisor (and its pool) up; library via pool: `await run([\'--rm\',\'busybox\',\'true\'])` from box.mjs in this bench process, pool made once',
  'runc/crun `run`: `run --bundle` of the same busybox rootfs (read-only, no terminal, fresh id and cgroup each round), measured once per round and shared by the three `run --rm` rows',
  '`exec`: `box exec ID true` vs `runc exec ID /bin/true`, into one long-running container each',
  '`run -d`: until the command returns; box prints the id once the container runs, runc `run -d --pid-file` with a console-less bundle',
  '`stop`: PID 1 = `sh -c \'trap "exit 0" TERM; sleep 1d & wait\'`, timed once it waits with its TERM handler set; box: `box stop ID`; runc/crun have no stop verb: `kill ID TERM`, then `state ID` called back to back until "stopped"',
  'memory: PSS (smaps_rollup) of every box process of the store that is not a container\'s (supervisors, anchor, pool stages) / N, 2 s after the last start and again once settled: the pooled stage let go after a minute without use and the supervisor trimmed ten seconds later (GC, malloc_trim, MADV_PAGEOUT of the file pages only it maps; lib/supervisor/trim.ts), as on a host where N containers run and nobody ran `box run` for a minute. PSS divides a page among the processes that map it, so other Node processes on the host (this bench itself) lower box\'s share of Node\'s binary; conmon: PSS of the conmon processes of a private podman instance running the same rootfs with runc (nothing of runc stays resident) / N',
];

async function main() {
  const when = machine();
  if (process.env.NODE_EXTRA_CA_CERTS) NOTES.push('NODE_EXTRA_CA_CERTS is set here; box runs with it, as a user\'s shell would start it');
  await setup();
  await rounds();
  if (library) { await library.close(); library = null; }
  delete process.env.BOX_ROOT;   // the library's store: not for the engines started next
  const mem: MemRow[] = [];
  const notes = [...NOTES];
  if (!interrupted) {
    const log = (s: string) => { notes.push(s); if (!JSON_OUT) console.error(s); };
    mem.push(...await measureBox(new BoxStore(path.join(tmp, 'box-mem')), NS, log, () => interrupted));
    if (!interrupted) mem.push(...await measurePodman(NS, log, () => interrupted));
  }
  const res = results();
  if (JSON_OUT) console.log(JSON.stringify({ machine: when, runs: RUNS, interrupted, rows: res, memory: mem, notes }, null, 2));
  else console.log('\n' + markdown(res, mem, notes, when));
  process.exitCode = interrupted ? 130 : rows.some((r) => r.variants.some((v) => v.failed > 0)) ? 1 : 0;
}

async function cleanup() {
  // every container of every store (and the store's supervisor with them), the runtimes' containers, their cgroups, the temp dir
  if (library) await library.close().catch(() => {});
  for (const s of [...stores, new BoxStore(path.join(tmp, 'box-mem'))]) for (const f of await s.removeAll()) console.error(`warning: ${path.basename(s.root)}: ${f}`);
  for (const rt of oci) rt.cleanup();
  removeRuncCgroups(CG_PREFIX);
  removeTmp(tmp);
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(cleanup);
