// A pool of pre-booted `__init` stages. Most of a container's start is the stage's own Node
// start-up (and koffi's); a pool does that ahead of time, so a run only hands a waiting stage
// its config (and its stdio, lib/container/handoff.ts). Containment holds as for a cold stage:
//  - each stage is spawned exactly as runContainer's cold one (launch.ts): born alone in a
//    fresh pid namespace, so no container can see it, and it can see nothing but itself;
//  - it holds nothing of any container: /dev/null on 0–2, its own channel and fd socket,
//    box's stage environment, and the empty mount/uts/ipc/net namespaces it makes while it
//    waits (lib/inside/init.ts); it learns of its container only from the config, and is
//    taken once and never comes back (runContainer closes it);
//  - it has the owner's death signal (stageInit's first step) and reads EOF on its channel
//    when the owner goes: an owner that dies takes its idle stages with it.
// Idle stages do not keep the owner's event loop alive; one that dies while idle is dropped
// and replaced (up to a few in a row, so that a stage that cannot boot is not respawned forever).
// A taken stage is replaced once its run is over (the taker closes it), or after
// refillDelayMs if it runs on: spawning is a fork of this process (2–5 ms of its thread) and a
// Node start-up (a CPU for ~100 ms), which on a small host would otherwise compete with the
// very run that took the stage — its set-up, its execve, its teardown (measured: +5–10 ms).
import { Stage } from './stage';
import { readStat } from '../util/proc';
import { POOLED_ARG } from '../inside/protocol';

/** Consecutive idle deaths after which the pool stops replacing (a run then starts cold). */
const MAX_IDLE_DEATHS = 5;

/** The part of a Stage the pool uses (a fake in test/unit/pool.test.ts). */
export interface PooledStage { child: { pid?: number; kill(signal: NodeJS.Signals): boolean }; exited: Promise<number>; hold(on: boolean): void; close(): void }

export class StagePool<S extends PooledStage = Stage> {
  private idle: S[] = [];
  private refill?: NodeJS.Immediate;
  private idleDeaths = 0;
  private closed = false;
  /** Why the pool stopped making stages, if a spawn failed. */
  error?: Error;
  /** How long a replacement waits for a taken stage that is still running (ms). */
  refillDelayMs = 100;

  /** Keep `size` stages booted (0: none, every run starts cold). `make` spawns one (tests give a fake). */
  constructor(readonly size: number, private readonly make: () => S = () => pooledStage() as unknown as S) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`StagePool: size must be an integer ≥ 0, not ${size}`);
    this.fill();
  }

  /** The pids of the idle stages. */
  get pids(): number[] { return this.idle.map((s) => s.child.pid!); }

  /**
   * A waiting stage, now the caller's (its own to close), or undefined when none is idle. Its
   * replacement starts once it is closed (or after refillDelayMs): a booting stage is a Node
   * start-up of CPU, which on a small host slows the very run that took one.
   */
  take(): S | undefined {
    let s: S | undefined;
    while ((s = this.idle.shift()) && !alive(s.child.pid)) this.forget(s); // died; its exit event is still on its way
    if (!s) { this.fillSoon(); return undefined; }
    this.idleDeaths = 0;
    s.hold(true);
    this.replaceAfter(s);
    return s;
  }

  /** fillSoon once the taker closes `s` (its run, teardown included, is over: close is the run's last step) or after refillDelayMs, whichever comes first. */
  private replaceAfter(s: S) {
    let timer: NodeJS.Timeout | undefined;
    const close = s.close;
    const refill = () => {
      if (!timer) return;
      clearTimeout(timer);
      timer = undefined;
      this.fillSoon();
    };
    timer = setTimeout(refill, this.refillDelayMs);
    timer.unref();
    s.close = () => { close.call(s); refill(); };
  }

  /** SIGKILL the idle stages and wait until each is reaped; no more are made. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.refill) clearImmediate(this.refill);
    const idle = this.idle;
    this.idle = [];
    for (const s of idle) {
      s.hold(true); // else the caller's loop may end before the exit is seen, and the stage stays a zombie
      s.child.kill('SIGKILL'); // by pid: the stage's own, never reused while unreaped
    }
    await Promise.all(idle.map(async (s) => { await s.exited; s.close(); }));
  }

  private fillSoon() {
    if (this.closed || this.refill || this.idle.length >= this.size) return;
    this.refill = setImmediate(() => { this.refill = undefined; this.fill(); }); // never on the taker's path
    this.refill.unref();
  }

  private fill() {
    while (!this.closed && this.idle.length < this.size && this.idleDeaths < MAX_IDLE_DEATHS) {
      let s: S;
      try {
        s = this.make();
      } catch (e: any) {
        this.error = e; // runs start cold (and fail there, with a ContainerError, if stages cannot start at all)
        this.idleDeaths = MAX_IDLE_DEATHS;
        return;
      }
      s.hold(false);
      this.idle.push(s);
      s.exited.then(() => {
        if (!this.idle.includes(s)) return; // taken: its run handles its end
        this.forget(s);
        this.idleDeaths++;
        this.fillSoon();
      });
    }
  }

  private forget(s: S) {
    this.idle = this.idle.filter((x) => x !== s);
    s.close();
  }
}

/** An `__init` stage as runContainer's cold path spawns it, but with /dev/null for stdio (it gets the container's with its config), told it is pooled: it makes its namespaces while it waits. */
export function pooledStage(): Stage {
  return new Stage('__init', 'container setup', ['ignore', 'ignore', 'ignore'], { newPidNs: true, args: [POOLED_ARG] }, true);
}

/**
 * A cold `box run`'s stage (no supervisor to hand the run to), spawned by run's own small part
 * (lib/cli/run-fast.ts) before box's code is loaded, so that its Node start-up (~50 ms on a
 * small host) overlaps that load and the flag parsing instead of following them; runCold
 * takes it. Idle, it does not keep this process alive (whatever fails before runCold takes it
 * ends with the process, and the stage with its death signal). On globalThis: the two parts
 * are separate bundles, each with its own copy of this module.
 */
const EARLY = Symbol.for('box.earlyStage');

export function spawnEarlyStage() {
  const s = pooledStage();
  s.hold(false);
  (globalThis as any)[EARLY] = s;
}

/** The early stage, now the caller's, if one was spawned and still waits. */
export function takeEarlyStage(): Stage | undefined {
  const s: Stage | undefined = (globalThis as any)[EARLY];
  delete (globalThis as any)[EARLY];
  if (!s) return undefined;
  if (!alive(s.child.pid)) { s.close(); return undefined; }
  s.hold(true);
  return s;
}

/** Running and not a zombie: the pool's exit handler has not run yet for a stage that just died. */
function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  const st = readStat(pid);
  return !!st && st.state !== 'Z' && st.state !== 'X';
}
