// Running the built ./box (the single file users get) from tests, with a private state root.
import { spawnSync, spawn, SpawnSyncOptions, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const TOP = path.resolve(__dirname, '..', '..');
/** The C compiler for the static probes: `cc` is an /etc/alternatives link, absent in the test guests (their /usr is the host's over 9p, their /etc their own): `gcc` there. */
export const CC = fs.existsSync('/usr/bin/cc') ? 'cc' : 'gcc';
export const BOX = path.join(TOP, 'box');
const givenRoot = process.env.BOX_TEST_ROOT;
export const STATE = givenRoot || (process.env.BOX_TEST_ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'box-test-')));
// Made here (a suite or a bench run alone, not under test/run.mjs, which removes its own):
// removed when this process ends — unless something is still mounted under it (a container
// a failed test left: removing through its mounts could reach what they bind).
if (!givenRoot) {
  process.on('exit', () => {
    try {
      const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => { const mp = l.split(' ')[4]; return mp === STATE || mp?.startsWith(`${STATE}/`); });
      if (!mounted) fs.rmSync(STATE, { recursive: true, force: true });
    } catch { /* left for the next look */ }
  });
}
export const ENV = { ...process.env, BOX_ROOT: STATE };

export interface Result { status: number; stdout: string; stderr: string; signal: NodeJS.Signals | null }

export function box(args: string[], opts: SpawnSyncOptions = {}): Result {
  const r = spawnSync(process.execPath, ['--', BOX, ...args], { encoding: 'utf8', timeout: 60000, ...opts, env: { ...ENV, ...(opts.env || {}) } });
  return { status: r.status ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), signal: r.signal };
}

/** `box run --rm busybox sh -c SCRIPT` → stdout, asserting success. */
export function sh(script: string, flags: string[] = []): string {
  const r = box(['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]);
  if (r.status !== 0) throw new Error(`box run exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const running = new Set<ChildProcess>();
// A failed assertion must not leave a container running: SIGKILL every box we started
// (its container dies with it) when the test process ends.
process.on('exit', () => { for (const p of running) try { p.kill('SIGKILL'); } catch { /* gone */ } });

export function boxAsync(args: string[], opts: any = {}): ChildProcess {
  const p = spawn(process.execPath, ['--', BOX, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts, env: { ...ENV, ...(opts.env || {}) } });
  running.add(p);
  p.on('exit', () => running.delete(p));
  return p;
}

/** End a container the clean way: SIGKILL its PID 1, so box itself tears everything down. */
export async function stop(p: ChildProcess) {
  for (const pid of childrenOf(p.pid!)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  return exitOf(p);
}

export function exitOf(p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((r) => p.on('exit', (code, signal) => r({ code, signal })));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(fn: () => T | undefined | false, ms = 10000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Children of a pid (host view). */
export function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** This suite's cgroup parent: box's /box-<hash of BOX_ROOT> (lib/cgroup/manager.ts), so other stores' containers never count. */
export const CG_PARENT = `box-${require('node:crypto').createHash('sha256').update(STATE).digest('hex').slice(0, 8)}`;

/**
 * This suite's cgroup parent in every mounted hierarchy (v1: one per hierarchy; v2 and the
 * unified hierarchy of a hybrid host: its mount point), whether or not box made it yet.
 * Another store's parent (another BOX_ROOT) is never among them.
 */
export function cgroupParents(): string[] {
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const m = line.match(/^\S+ \S+ \S+ \/ (\S+) .* - cgroup2? /);
    if (m) out.push(path.join(m[1], CG_PARENT));
  }
  return out;
}

/** The cgroup dirs box made for this suite's containers, in any hierarchy. */
export function boxCgroups(): string[] {
  const out: string[] = [];
  for (const parent of cgroupParents()) {
    try { for (const d of fs.readdirSync(parent)) if (fs.statSync(path.join(parent, d)).isDirectory()) out.push(path.join(parent, d)); } catch { /* none */ }
  }
  return out;
}

export function stateEntries(): string[] {
  try { return fs.readdirSync(path.join(STATE, 'containers')); } catch { return []; }
}

/** Mounts under this suite's store (a mount point is field 5 of mountinfo); another store's never match. */
export function boxMounts(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => { const mp = l.split(' ')[4]; return mp === STATE || mp?.startsWith(`${STATE}/`); });
}

/**
 * A container command that runs until it is told to end: SIGTERM (box stop, box kill) ends it
 * with status 0 at once. Tests use it instead of `sleep N`, whose end would race the CLI calls
 * that expect it running on a slow, loaded host.
 */
export const UNTIL_TERM = 'trap "exit 0" TERM; while :; do sleep 0.1; done';

/** Live (not zombie) processes of this suite's store whose command line matches `re` (found by BOX_ROOT in their environment). */
export function storeProcesses(re: RegExp): number[] {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      if (/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${p}/stat`, 'utf8'))) return false; // exited, awaiting the host's reaper
      if (!re.test(fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '))) return false;
      return fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(`BOX_ROOT=${STATE}`); // this suite's, not another store's
    } catch { return false; }
  }).map(Number);
}

/** The store's shared supervisor and its anchor (lib/supervisor/). */
export const SUPERVISOR_PROCS = /box-supervisor|box-anchor|__anchor|__supervisor/;

/** Remove containers of this suite whether or not they exist or run (for `finally`). */
export function removeAll(...names: string[]) {
  for (const n of names) box(['rm', '-f', n]);
}

/** Every descendant of a pid (host view), depth first. */
export function descendants(pid: number): number[] {
  return childrenOf(pid).flatMap((c) => [c, ...descendants(c)]);
}

/** The command line of a pid, arguments joined by spaces ('' once it has exited). */
export function cmdline(pid: number): string {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' '); } catch { return ''; }
}

/** uvu's test, or test.skip with the reason printed when the host lacks what it needs. */
export function needs<T extends (...a: any[]) => any>(test: { skip: T } & T, ok: boolean, reason: string): T {
  if (ok) return test;
  return ((name: string, fn: any) => { console.log(`  skip "${name}": ${reason}`); test.skip(name, fn); }) as any;
}

/** box without blocking this process (for tests that serve something box talks to). */
export function boxLater(args: string[], opts: any = {}): Promise<Result> {
  const p = boxAsync(args, opts);
  let stdout = '', stderr = '';
  p.stdout!.on('data', (d) => { stdout += d; });
  p.stderr!.on('data', (d) => { stderr += d; });
  return new Promise((r) => p.on('close', (code, signal) => r({ status: code ?? -1, stdout, stderr, signal })));
}
