// Interleaved A/B of `box run --rm busybox true` through a store's warm pool, for one or more
// box binaries (each in its own private store with a detached keeper holding its supervisor up),
// next to `runc run` of the same rootfs. Medians and p90 of N rounds.
//   node --import tsx bench/pool-ab.ts [--runs N] BOX_FILE...   (root; default: ./box)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BoxStore, BOX } from './box-store';
import { OciRuntime, CG_PREFIX } from './oci-bundle';
import { removeRuncCgroups, removeTmp } from './cleanup';
import { quantile } from './stats';

const argv = process.argv.slice(2);
const at = argv.indexOf('--runs');
const RUNS = at >= 0 ? Number(argv.splice(at, 2)[1]) : 15;
const boxes = argv.length ? argv.map((f) => path.resolve(f)) : [BOX];
const clock = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = clock();
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (c) => { const ms = clock() - t0; if (c === 0) resolve(ms); else reject(new Error(`${cmd} ${args.join(' ')}: exit ${c}: ${err}`)); });
  });
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-bench-ab-'));
  const stores = boxes.map((_, i) => new BoxStore(path.join(tmp, `store-${i}`)));
  const runc = new OciRuntime('runc', tmp);
  const times: number[][] = boxes.map(() => []);
  const rt: number[] = [];
  try {
    if (runc.unavailable()) throw new Error('no runc');
    for (const [i, s] of stores.entries()) {
      await timed(boxes[i], ['run', '-d', '--name', 'keep', 'busybox', 'sleep', '1d'], s.env);
    }
    await sleep(1500); // pools boot
    for (const [i, s] of stores.entries()) await timed(boxes[i], ['run', '--rm', 'busybox', 'true'], s.env); // warm the code caches
    for (let n = 0; n < RUNS; n++) {
      for (const [i, s] of stores.entries()) { times[i].push(await timed(boxes[i], ['run', '--rm', 'busybox', 'true'], s.env)); await sleep(150); }
      const id = runc.id(`ab-${n}`);
      rt.push(await timed('runc', runc.argv('run', '--bundle', runc.bundle(id, ['/bin/true']), id), process.env));
      await sleep(150);
    }
  } finally {
    for (const s of stores) await s.removeAll();
    runc.cleanup();
    removeRuncCgroups(CG_PREFIX);
    removeTmp(tmp);
  }
  const q = (xs: number[], p: number) => quantile(xs, p) ?? NaN;
  const fmt = (xs: number[]) => `p10 ${q(xs, 0.1).toFixed(1)} median ${q(xs, 0.5).toFixed(1)} p90 ${q(xs, 0.9).toFixed(1)} ms`; // p10: what a loaded host hides least
  for (const [i, b] of boxes.entries()) console.log(`${b}: ${fmt(times[i])}  (${(q(times[i], 0.5) / q(rt, 0.5)).toFixed(2)}× runc)`);
  console.log(`runc: ${fmt(rt)}`);
}
main().catch((e) => { console.error(e); process.exitCode = 1; });
