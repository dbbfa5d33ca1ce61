// bench/cost.ts's memory rows: what N detached `sleep 1d` containers keep resident besides
// themselves. box: PSS of every box process of a private store (BoxStore.processes()); podman:
// PSS of the conmon processes of a private podman instance (test/helpers/engines.ts) with runc
// as its runtime, registered as bench/oci.ts does. N grows in steps (10, then 90 more), started
// a few at a time in parallel; each engine is measured alone, then emptied, since PSS divides
// shared pages (libc) among whoever maps them.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Podman, RUNC, BIN, missing } from '../test/helpers/engines';
import { BoxStore, BOX } from './box-store';
import { pids, cmdline, isZombie, pssKb } from './procs';
import { TRIM_AFTER_MS } from '../lib/supervisor/trim';

/**
 * startSec: how long starting the containers added since the previous step took. pssKb/procs:
 * 2 s after the last start; idlePssKb/idleProcs: once the engine has settled — box's pool let go
 * (a minute without use) and its supervisor trimmed (lib/supervisor/trim.ts), as a host with N
 * long-running containers and no `box run` for a minute is; conmon does not change.
 */
export interface MemRow { engine: 'box' | 'podman'; n: number; procs: number; pssKb: number; idleProcs: number; idlePssKb: number; startSec: number }
type Log = (line: string) => void;

const PARALLEL = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sumPss = (ps: number[]) => ps.reduce((a, p) => a + pssKb(p), 0);

/** Start containers until `ids` holds n, PARALLEL at a time; start() resolves to an id or throws. */
async function grow(ids: string[], n: number, start: () => Promise<string>, stop: () => boolean) {
  while (ids.length < n && !stop()) {
    const batch = Math.min(PARALLEL, n - ids.length);
    ids.push(...await Promise.all(Array.from({ length: batch }, start)));
  }
}

/** Run a command to completion without blocking the event loop (so a Ctrl-C is seen). */
function call(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', (e) => { stderr += e.message; });
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Measure at each n of ns; the settle pause lets start-up transients (a client's exit, a pool refill) end. */
async function steps(engine: MemRow['engine'], ns: number[], start: () => Promise<string>, overhead: () => number[], log: Log, stop: () => boolean, idle: () => Promise<void>): Promise<MemRow[]> {
  const rows: MemRow[] = [];
  const ids: string[] = [];
  for (const n of ns) {
    const t0 = Date.now(), before = ids.length;
    await grow(ids, n, start, stop);
    if (stop()) break;
    const startSec = (Date.now() - t0) / 1000;
    await sleep(2000);
    const ps = overhead();
    const pss = sumPss(ps);
    await idle();
    if (stop()) break;
    const idlePs = overhead();
    rows.push({ engine, n, procs: ps.length, pssKb: pss, idleProcs: idlePs.length, idlePssKb: sumPss(idlePs), startSec });
    const what = engine === 'box' ? 'box' : 'conmon';
    log(`${engine}: ${n} detached containers (${n - before} started in ${startSec.toFixed(1)} s, ${PARALLEL} at a time): ${ps.length} ${what} processes, ${(pss / 1024).toFixed(1)} MiB PSS; settled: ${idlePs.length} ${what} processes, ${(sumPss(idlePs) / 1024).toFixed(1)} MiB PSS`);
  }
  return rows;
}

export async function measureBox(store: BoxStore, ns: number[], log: Log, stop: () => boolean): Promise<MemRow[]> {
  try {
    return await steps('box', ns, async () => {
      const r = await store.call('run', '-d', 'busybox', 'sleep', '1d');
      if (!r.ok) throw new Error(`box run -d: exit ${r.status}: ${r.stderr.trim()}`);
      return r.stdout.trim();
    }, () => store.processes(), log, stop, async () => {
      // settled: no pooled stage left (the supervisor and its anchor only), then the supervisor's trim
      for (let t = 0; t < 100 && !stop() && store.processes().length > 2; t++) await sleep(1000);
      await sleep(TRIM_AFTER_MS + 3000);
    });
  } catch (e) {
    log(`box memory: ${(e as Error).message}`);
    return [];
  } finally {
    for (const f of await store.removeAll()) log(`warning: box memory store: ${f}`);
  }
}

export async function measurePodman(ns: number[], log: Log, stop: () => boolean): Promise<MemRow[]> {
  const why = missing('podman', 'conmon');
  if (why) { log(`podman memory skipped: ${why}`); return []; }
  const eng = new Podman(BOX, { log: false, ref: RUNC });
  const ids: string[] = [];
  try {
    await eng.start();
    // conmon -c <id> … with paths under the instance's dir: this instance's monitors, no other podman's
    const conmons = () => pids().filter((p) => !isZombie(p) && path.basename(cmdline(p)[0] ?? '') === 'conmon' && cmdline(p).some((a) => a.includes(eng.dir)));
    return await steps('podman', ns, async () => {
      const r = await call(BIN.podman, ['--runtime', 'ref', 'run', '-d', ...eng.runFlags, ...eng.imageArgs, 'sleep', '1d'], eng.env);
      if (r.status !== 0) throw new Error(`podman run -d: exit ${r.status}: ${r.stderr.trim()}`);
      ids.push(r.stdout.trim());
      return r.stdout.trim();
    }, conmons, log, stop, async () => {});
  } catch (e) {
    log(`podman memory: ${(e as Error).message.split('\n')[0]}`);
    return [];
  } finally {
    // remove ours in batches first: stop()'s own `rm --all` has a 30 s limit, short for 100
    const all = [...new Set(ids)];
    for (let i = 0; i < all.length; i += 10) await call(BIN.podman, ['rm', '-f', '-t', '0', ...all.slice(i, i + 10)], eng.env);
    const forced = await eng.stop();
    if (forced.length) log(`warning: podman cleanup had to force: ${forced.join('; ')}`);
  }
}
