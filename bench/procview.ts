// The /proc view's cost (issue 16): start-up of a pooled `box run --rm busybox true` with the
// view (default) and without (--proc-view=false), interleaved; cold runs likewise; and the
// time of one `cat /proc/meminfo` inside a container, served by the view next to the real
// procfs file (--proc-view=false), as (loop of N cats) / N.
//   node --import tsx bench/procview.ts [--runs N]   (root)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BoxStore, BOX } from './box-store';
import { removeTmp } from './cleanup';
import { quantile } from './stats';

const argv = process.argv.slice(2);
const at = argv.indexOf('--runs');
const RUNS = at >= 0 ? Number(argv.splice(at, 2)[1]) : 20;
const clock = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function timed(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = clock();
    const p = spawn(BOX, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (c) => (c === 0 ? resolve({ ms: clock() - t0, out }) : reject(new Error(`box ${args.join(' ')}: exit ${c}: ${err}`))));
  });
}

const LOOP = 500, PER = 20; // PER reads per cat: the fork and exec amortized
// busybox's date has no %N: its `time` (10 ms resolution, 5 µs per read over the loop), on stderr → stdout
const readLoop = `time sh -c 'i=0; while [ $i -lt ${LOOP} ]; do cat ${Array(PER).fill('/proc/meminfo').join(' ')} >/dev/null; i=$((i+1)); done' 2>&1`;
const perRead = (out: string) => { const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(out); if (!m) throw new Error(`no time in: ${out}`); return (Number(m[1]) * 60 + Number(m[2])) * 1e6 / (LOOP * PER); };

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-bench-pv-'));
  const cold = new BoxStore(path.join(tmp, 'cold'));
  const warm = new BoxStore(path.join(tmp, 'warm'));
  const t: Record<string, number[]> = { 'pooled view': [], 'pooled off': [], 'cold view': [], 'cold off': [], 'cat view (µs)': [], 'cat off (µs)': [] };
  try {
    await timed(['run', '-d', '--name', 'keep', 'busybox', 'sleep', '1d'], warm.env);
    await sleep(1500);
    for (const s of [cold, warm]) for (const off of [[], ['--proc-view=false']]) await timed(['run', '--rm', ...off, 'busybox', 'true'], s.env);
    for (let n = 0; n < RUNS; n++) {
      t['pooled view'].push((await timed(['run', '--rm', 'busybox', 'true'], warm.env)).ms); await sleep(150);
      t['pooled off'].push((await timed(['run', '--rm', '--proc-view=false', 'busybox', 'true'], warm.env)).ms); await sleep(150);
      t['cold view'].push((await timed(['run', '--rm', 'busybox', 'true'], cold.env)).ms); await sleep(150);
      t['cold off'].push((await timed(['run', '--rm', '--proc-view=false', 'busybox', 'true'], cold.env)).ms); await sleep(150);
    }
    for (let n = 0; n < 3; n++) {
      t['cat view (µs)'].push(perRead((await timed(['run', '--rm', '-m', '256m', 'busybox', 'sh', '-c', readLoop], warm.env)).out));
      t['cat off (µs)'].push(perRead((await timed(['run', '--rm', '-m', '256m', '--proc-view=false', 'busybox', 'sh', '-c', readLoop], warm.env)).out));
    }
  } finally {
    for (const s of [cold, warm]) await s.removeAll();
    removeTmp(tmp);
  }
  const q = (xs: number[], p: number) => quantile(xs, p) ?? NaN;
  for (const [k, xs] of Object.entries(t)) console.log(`${k.padEnd(14)} p10 ${q(xs, 0.1).toFixed(1)}  median ${q(xs, 0.5).toFixed(1)}  p90 ${q(xs, 0.9).toFixed(1)}  (n=${xs.length})`);
}
main().catch((e) => { console.error(e); process.exitCode = 1; });
