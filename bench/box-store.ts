// A private box store for a bench (BOX_ROOT in the bench's temp dir, never the user's store):
// its environment, its box processes, and removing everything it holds at the end — every
// container, then every box process still running for it, then its cgroup parent.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentName } from '../lib/cgroup/manager';
import { cgroupMounts } from '../test/helpers/engines';
import { pids, environ, isZombie } from './procs';

export const BOX = path.resolve(__dirname, '..', 'box');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Ran { ok: boolean; status: number | null; stdout: string; stderr: string }

export class BoxStore {
  readonly env: NodeJS.ProcessEnv;

  /** root: the store (created on first use by box); extra: more environment (BOX_POOL=0). */
  constructor(readonly root: string, extra: NodeJS.ProcessEnv = {}) {
    this.env = { ...process.env, ...extra, BOX_ROOT: root };
  }

  /** `box ...args` in this store, to completion. */
  sync(...args: string[]): Ran {
    const r = spawnSync(BOX, args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 120000, killSignal: 'SIGKILL' });
    return { ok: r.status === 0, status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? `\n${r.error.message}` : '') };
  }

  /** `box ...args` in this store, without blocking the event loop (parallel starts, a Ctrl-C between). */
  call(...args: string[]): Promise<Ran> {
    return new Promise((resolve) => {
      const p = spawn(BOX, args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      p.stdout.on('data', (d) => { stdout += d; });
      p.stderr.on('data', (d) => { stderr += d; });
      const timer = setTimeout(() => p.kill('SIGKILL'), 120000);
      p.on('error', (e) => { stderr += e.message; });
      p.on('close', (status) => { clearTimeout(timer); resolve({ ok: status === 0, status, stdout, stderr }); });
    });
  }

  /** The host pid of a container's PID 1, from `box inspect` (0 when it has none). */
  pidOf(id: string): number {
    const r = this.sync('inspect', id);
    try { return Number(JSON.parse(r.stdout)[0].State.Pid) || 0; } catch { return 0; }
  }

  /**
   * Every box process of this store that is not a container's process: supervisors, the anchor,
   * pool stages. Told apart by their environment: box passes BOX_ROOT on to every process it
   * spawns (the stage's STAGE_ENV too), while a container's processes get the container's own
   * environment at execve. Zombies and this bench itself are left out.
   */
  processes(): number[] {
    const mark = `BOX_ROOT=${this.root}`;
    return pids().filter((p) => p !== process.pid && !isZombie(p) && environ(p).includes(mark));
  }

  /**
   * Remove every container of the store (`box rm -f`, 10 per call, 4 calls at once), wait up to 20 s for its box
   * processes to end (a shared supervisor exits once it supervises nothing), SIGKILL by PID what
   * is left (the environment names our private store, so it is ours), then check box's cgroup
   * parent for this store is gone. Returns what needed force, for a warning.
   */
  async removeAll(): Promise<string[]> {
    const forced: string[] = [];
    if (!fs.existsSync(this.root)) return forced;
    const ids = this.sync('ps', '-aq', '--no-trunc').stdout.split('\n').filter(Boolean);
    // 4 calls at a time: each `rm -f` may wait for its container's owner (seconds, with a shared supervisor)
    const batches = Array.from({ length: Math.ceil(ids.length / 10) }, (_, i) => ids.slice(i * 10, i * 10 + 10));
    for (let i = 0; i < batches.length; i += 4) {
      for (const r of await Promise.all(batches.slice(i, i + 4).map((b) => this.call('rm', '-f', ...b)))) if (!r.ok) forced.push(`box rm -f: ${r.stderr.trim()}`);
    }
    for (let t = 0; t < 200 && this.processes().length; t++) await sleep(100);
    const left = this.processes();
    if (left.length) {
      forced.push(`killed box processes ${left.join(' ')}`);
      for (const p of left) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
      await sleep(200);
    }
    const parent = parentName(this.root);
    for (const m of cgroupMounts()) {
      const dir = path.join(m, parent);
      if (!fs.existsSync(dir)) continue;
      forced.push(`cgroup left: ${dir}`);
      // only box's own parent for our private store and what is under it, deepest first
      const dirs = (d: string): string[] => [...fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => dirs(path.join(d, e.name))), d];
      for (const d of dirs(dir)) try { fs.rmdirSync(d); } catch (e) { forced.push(`could not remove ${d}: ${(e as Error).message}`); }
    }
    return forced;
  }
}
