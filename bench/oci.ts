// box as an engine's OCI runtime, next to runc, in the SAME private engine instance with the same
// image: `podman run --rm … true` and `docker run --rm … true` start-up (N interleaved runs each,
// median and p90), and resident memory per running container — the engine's monitor (conmon, or
// containerd-shim-runc-v2) plus any process of the runtime still resident — summed RSS per container;
// in-ctr: RSS of the container's own processes (the workload `sleep`; more means the runtime left something inside).
// The instances are test/helpers/engines.ts's (private dirs, cgroup parents; removed at the end).
//   npx tsx bench/oci.ts [--runs N] [--containers N] [--box PATH] [--json]   (root; an engine that is not installed is skipped)
import * as os from 'node:os';
import * as path from 'node:path';
import { Podman, Docker, Engine, Result, RUNC, missing, cgroupDirOf } from '../test/helpers/engines';
import { pids as procs, cmdline, rssKb } from './procs';
import { quantile } from './stats';

const argv = process.argv.slice(2);
const opt = (name: string, def: number) => { const i = argv.indexOf(name); const v = i >= 0 ? Number(argv[i + 1]) : def; if (!Number.isInteger(v) || v < 1) throw new Error(`${name} wants a positive integer`); return v; };
const RUNS = opt('--runs', 10);
const CONTAINERS = opt('--containers', 3);
const JSON_OUT = argv.includes('--json');
// --box PATH: another box executable (or runc itself, to check the bench: both rows then match)
const BOX = argv.includes('--box') ? path.resolve(argv[argv.indexOf('--box') + 1] ?? '') : path.resolve(__dirname, '..', 'box');
if (process.geteuid!() !== 0) { console.error('bench/oci.ts: must run as root (the engines need it)'); process.exit(1); }

interface Row { engine: string; runtime: string; runs: number; failed: number; median: number | null; p90: number | null; rssKb: { monitor: number; runtime: number; total: number; inside: number } | null }
const rows: Row[] = [];
const skipped: string[] = [];

const inCgroup = (p: number, dir: string | undefined) => { try { return !!dir && cgroupDirOf(p, 'memory') === dir; } catch { return false; } };

/**
 * RSS of one running container's overhead: its monitor (conmon `-c <id>` / the shim `-id <id>`)
 * and every other process outside the container's cgroup whose command line names the container
 * or the runtime (a runtime that stayed resident) — the container's own processes are not counted.
 */
function overhead(id: string, pid: number, runtime: string): { monitor: number; runtime: number; total: number; inside: number } {
  const cg = cgroupDirOf(pid, 'memory');
  let monitor = 0, resident = 0, inside = 0;
  for (const p of procs()) {
    if (p === process.pid || p === process.ppid) continue; // not this bench (tsx's parent names --box PATH)
    if (inCgroup(p, cg)) { inside += rssKb(p); continue; } // the container's own processes: `sleep`, and nothing else of the runtime's
    const args = cmdline(p);
    const exe = path.basename(args[0] || '');
    const isMonitor = (exe === 'conmon' && args.includes(id)) || (exe === 'containerd-shim-runc-v2' && args.includes(id));
    if (isMonitor) monitor += rssKb(p);
    else if (args.some((a) => a.includes(id) || a === runtime)) resident += rssKb(p);
  }
  return { monitor, runtime: resident, total: monitor + resident, inside };
}

type Which = 'box' | 'ref';
/** How an engine runs one container with runtime `which` (box, or runc registered as `ref`). */
type RunArgs = (which: Which, flags: string[], cmd: string[]) => string[];

async function bench(label: string, eng: Engine & { cli(a: string[]): Result }, runArgs: RunArgs) {
  const runtimes = [{ name: 'box', which: 'box' as const, exe: BOX }, { name: 'runc', which: 'ref' as const, exe: RUNC }];
  const times: Record<string, number[]> = { box: [], runc: [] };
  const failed: Record<string, number> = { box: 0, runc: 0 };
  // one untimed warm-up round, then RUNS rounds alternating box, runc
  for (let i = -1; i < RUNS; i++) {
    for (const rt of runtimes) {
      const t0 = process.hrtime.bigint();
      const r = eng.cli(runArgs(rt.which, ['--rm'], ['true']));
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status === 0) { if (i >= 0) times[rt.name].push(ms); } else if (failed[rt.name]++ === 0) console.error(`${label} ${rt.name}: exit ${r.status}: ${r.stderr.trim()}`);
    }
  }
  // resident memory: CONTAINERS long-running containers per runtime, measured once all run
  for (const rt of runtimes) {
    const ids: string[] = [];
    let rss: Row['rssKb'] = null;
    try {
      for (let n = 0; n < CONTAINERS; n++) {
        const r = eng.cli(runArgs(rt.which, ['-d'], ['sleep', '100000']));
        if (r.status !== 0) { console.error(`${label} ${rt.name} run -d: exit ${r.status}: ${r.stderr.trim()}`); break; }
        ids.push(r.stdout.trim());
      }
      await new Promise((r) => setTimeout(r, 500)); // let the runtime's own processes finish
      const per = ids.map((id) => overhead(id, Number(eng.cli(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim()), rt.exe));
      const med = (k: keyof ReturnType<typeof overhead>) => quantile(per.map((p) => p[k]), 0.5)!;
      if (per.length) rss = { monitor: med('monitor'), runtime: med('runtime'), total: med('total'), inside: med('inside') };
    } finally {
      if (ids.length) eng.cli(['rm', '-f', ...ids]);
    }
    rows.push({ engine: label, runtime: rt.name, runs: times[rt.name].length, failed: failed[rt.name], median: quantile(times[rt.name], 0.5), p90: quantile(times[rt.name], 0.9), rssKb: rss });
  }
}

async function main() {
  const engines: { label: string; bins: Parameters<typeof missing>; make: () => Podman | Docker; runArgs: (e: any) => RunArgs }[] = [
    // podman: the runtime is a global flag (a name from the private containers.conf)
    { label: 'podman', bins: ['podman', 'conmon'], make: () => new Podman(BOX, { log: false, ref: RUNC }),
      runArgs: (e: Podman) => (w, flags, cmd) => ['--runtime', w, 'run', ...flags, ...e.runFlags, ...e.imageArgs, ...cmd] },
    // docker: per run (`run --runtime box|ref`, both added to the private dockerd)
    { label: 'docker', bins: ['dockerd', 'docker', 'containerd', 'shim'], make: () => new Docker(BOX, { log: false, ref: RUNC }),
      runArgs: (e: Docker) => (w, flags, cmd) => ['run', ...flags, '--runtime', w, '--network', 'none', ...e.imageArgs, ...cmd] },
  ];
  for (const { label, bins, make, runArgs } of engines) {
    const why = missing(...bins);
    if (why) { skipped.push(`${label}: ${why}`); continue; }
    const eng = make();
    try {
      await eng.start();
      await bench(label, eng, runArgs(eng));
    } catch (e) {
      skipped.push(`${label}: ${(e as Error).message.split('\n')[0]}`);
    } finally {
      const forced = await eng.stop();
      if (forced.length) console.error(`${label}: cleanup had to force: ${forced.join('; ')}`);
    }
  }
  if (JSON_OUT) { console.log(JSON.stringify({ runs: RUNS, containers: CONTAINERS, rows, skipped }, null, 2)); return; }
  const f = (x: number | null | undefined, d = 0) => (x === null || x === undefined ? '-' : x.toFixed(d));
  console.log(`\nengine start-up (run --rm … true), ${RUNS} interleaved runs each; overhead RSS per running container (median of ${CONTAINERS}); ${os.cpus().length} CPUs, ${os.release()}`);
  console.log(`${'engine'.padEnd(8)}${'runtime'.padEnd(9)}${'median ms'.padStart(11)}${'p90 ms'.padStart(9)}${'failed'.padStart(8)}${'monitor MiB'.padStart(13)}${'runtime MiB'.padStart(13)}${'total MiB'.padStart(11)}${'in-ctr MiB'.padStart(12)}`);
  for (const r of rows) {
    const mib = (k?: number) => (k === undefined ? '-' : (k / 1024).toFixed(1));
    console.log(`${r.engine.padEnd(8)}${r.runtime.padEnd(9)}${f(r.median).padStart(11)}${f(r.p90).padStart(9)}${String(r.failed).padStart(8)}${mib(r.rssKb?.monitor).padStart(13)}${mib(r.rssKb?.runtime).padStart(13)}${mib(r.rssKb?.total).padStart(11)}${mib(r.rssKb?.inside).padStart(12)}`);
  }
  for (const s of skipped) console.log(`skipped ${s}`);
  process.exitCode = rows.some((r) => r.failed > 0 || r.runs === 0) ? 1 : 0;
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
