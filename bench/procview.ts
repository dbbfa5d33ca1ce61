// What the container's own view of /proc and sysinfo(2) costs (issue 16, lib/procview/):
// the extra start-up of `box run --rm busybox true` with the view (the default) next to
// `--proc-view=false`, cold and through the pool, interleaved; and, inside a container under
// `-m 256m --cpus 1`, the time one read of /proc/meminfo, /proc/cpuinfo and /proc/stat and one
// sysinfo(2) call take through the view, next to the kernel's own files inside
// (`--proc-view=false`) and on the host. Plus what a program that sizes itself sees in each.
// Private stores in a temp dir; nothing left behind.
//   node --import tsx bench/procview.ts [--runs N] [--reads N]   (root)
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BoxStore, BOX } from './box-store';
import { removeTmp } from './cleanup';
import { quantile } from './stats';
import { cmdline } from './procs';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number) => { const i = argv.indexOf(name); const n = i >= 0 ? Number(argv[i + 1]) : dflt; if (!Number.isInteger(n) || n < 1) throw new Error(`${name} wants a positive integer`); return n; };
const RUNS = opt('--runs', 15);
// under the views' budget (lib/procview/budget.ts: 100 requests per 100 ms — a read to the end is 4: open, read, read at the end, release — or 50 sysinfo calls), so this is latency, not the budget's pace
const READS = opt('--reads', 20);
if (process.geteuid!() !== 0) { console.error('bench/procview.ts: must run as root'); process.exit(1); }
if (!fs.existsSync(BOX)) { console.error(`bench/procview.ts: ${BOX} missing (npm run build)`); process.exit(1); }

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-bench-procview-'));
const cold = new BoxStore(path.join(tmp, 'cold'), { BOX_POOL: '0' });
const warm = new BoxStore(path.join(tmp, 'warm'));
const clock = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function timed(env: NodeJS.ProcessEnv, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = clock();
    const p = spawn(BOX, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (c) => (c === 0 ? resolve(clock() - t0) : reject(new Error(`box ${args.join(' ')}: exit ${c}: ${err.trim()}`))));
  });
}

/** The probe, static (a busybox rootfs has no libc), in a directory bound into the containers. */
function buildProbe(): string {
  const dir = path.join(tmp, 'x');
  fs.mkdirSync(dir);
  const r = spawnSync('gcc', ['-static', '-O2', '-o', path.join(dir, 'probe'), path.join(__dirname, 'procview-probe.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc -static: ${r.stderr || r.error?.message} (apt-get install gcc libc6-dev)`);
  return dir;
}

async function startup() {
  const rows: { title: string; env: NodeJS.ProcessEnv; extra: string[]; times: number[] }[] = [];
  for (const [store, where] of [[cold, 'cold CLI'], [warm, 'CLI via pool']] as const) {
    rows.push({ title: `${where}, view (default)`, env: store.env, extra: [], times: [] });
    rows.push({ title: `${where}, --proc-view=false`, env: store.env, extra: ['--proc-view=false'], times: [] });
  }
  const keep = warm.sync('run', '-d', 'busybox', 'sleep', '1d'); // holds the warm store's supervisor and pool
  if (!keep.ok) throw new Error(`box run -d: ${keep.stderr.trim()}`);
  await sleep(1500); // the pool boots its stage
  for (let i = -1; i < RUNS; i++) {
    console.error(i < 0 ? 'start-up: warm-up round' : `start-up: round ${i + 1}/${RUNS}`);
    for (const r of rows) {
      const ms = await timed(r.env, ['run', '--rm', ...r.extra, '-m', '256m', 'busybox', 'true']);
      if (i >= 0) r.times.push(ms);
    }
  }
  return rows.map((r) => ({ title: r.title, median: quantile(r.times, 0.5)!, p90: quantile(r.times, 0.9)! }));
}

function inside(dir: string, view: boolean, probeArgs: string[]): string {
  const r = warm.sync('run', '--rm', ...(view ? [] : ['--proc-view=false']), '-m', '256m', '--cpus', '1', '-v', `${dir}:/x:ro`, 'busybox', '/x/probe', ...probeArgs);
  if (!r.ok) throw new Error(`probe ${probeArgs.join(' ')} (${view ? 'view' : 'no view'}): exit ${r.status}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

function host(dir: string, probeArgs: string[]): string {
  const r = spawnSync(path.join(dir, 'probe'), probeArgs, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`probe ${probeArgs.join(' ')} on the host: ${r.stderr}`);
  return r.stdout.trim();
}

/** CPU time (ms) a process has used so far: utime + stime from /proc/PID/stat. */
function cpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * 1000 / 100; // USER_HZ: 100 on Linux
}

/**
 * A container that reads a view file (or calls sysinfo) as fast as it can for 3 s, on the
 * warm store's supervisor: the share of a CPU the supervisor spends answering it, which the
 * container's cgroup never counts, so the views' budget (lib/procview/budget.ts) bounds it.
 */
function flood(dir: string, what: string, view: boolean): string {
  const sup = warm.processes().find((p) => cmdline(p).some((a) => a.includes('__supervisor') || a.includes('box-supervisor')));
  if (!sup) return 'no supervisor';
  const before = cpuMs(sup), t0 = clock();
  const r = warm.sync('run', '--rm', ...(view ? [] : ['--proc-view=false']), '-m', '256m', '--cpus', '1', '-v', `${dir}:/x:ro`, 'busybox', 'sh', '-c', what);
  if (!r.ok && r.status !== 143) return `exit ${r.status}: ${r.stderr.trim()}`;
  return `${(100 * (cpuMs(sup) - before) / (clock() - t0)).toFixed(0)}%`;
}

async function main() {
  const machine = `${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model.trim()} × ${os.cpus().length}, Linux ${os.release()}, ${fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'cgroup v2' : 'cgroup v1'}, load ${os.loadavg()[0].toFixed(1)}`;
  const dir = buildProbe();
  const out: string[] = [`Measured ${machine}; ${RUNS} interleaved rounds, ms:`, '', '| `box run --rm -m 256m busybox true` | median | p90 |', '|---|--:|--:|'];
  for (const r of await startup()) out.push(`| ${r.title} | ${r.median.toFixed(1)} | ${r.p90.toFixed(1)} |`);
  out.push('', `Inside a container under \`-m 256m --cpus 1\` and on the host, µs per call (${READS} calls, open + read all + close for a file):`, '', '| | view (default) | `--proc-view=false` | host |', '|---|--:|--:|--:|');
  for (const f of ['/proc/meminfo', '/proc/cpuinfo', '/proc/stat', '/sys/devices/system/cpu/online']) {
    const a = ['read', f, String(READS)];
    out.push(`| read \`${f}\` | ${inside(dir, true, a)} | ${inside(dir, false, a)} | ${host(dir, a)} |`);
  }
  const s = ['sysinfo', String(READS)];
  out.push(`| \`sysinfo(2)\` | ${inside(dir, true, s)} | ${inside(dir, false, s)} | ${host(dir, s)} |`);
  const catLoop = "timeout 3 sh -c 'while :; do cat /proc/meminfo; done' >/dev/null; true";
  const sysLoop = 'timeout 3 /x/probe sysinfo 100000000 >/dev/null; true';
  out.push('', 'A container reading as fast as it can for 3 s (a `cat /proc/meminfo` loop; the probe calling sysinfo): the share of a CPU the supervisor spends answering it (outside the container\'s cgroup; bounded by lib/procview/budget.ts):', '',
    '| | view (default) | `--proc-view=false` |', '|---|--:|--:|',
    `| \`cat /proc/meminfo\` loop | ${flood(dir, catLoop, true)} | ${flood(dir, catLoop, false)} |`,
    `| sysinfo(2) loop | ${flood(dir, sysLoop, true)} | ${flood(dir, sysLoop, false)} |`);
  out.push('', 'What a program that sizes itself sees (sysconf and sysinfo, from bench/procview-probe.c):', '', '```',
    `view:              ${inside(dir, true, ['sizes'])}`, `--proc-view=false: ${inside(dir, false, ['sizes'])}`, `host:              ${host(dir, ['sizes'])}`, '```');
  console.log(out.join('\n'));
}

main().catch((e) => { console.error(`bench/procview.ts: ${e.message}`); process.exitCode = 1; }).finally(async () => {
  for (const s of [warm, cold]) for (const w of await s.removeAll()) console.error(`warning: ${w}`);
  removeTmp(tmp);
});
