// A per-container request budget for the host-side servers of the views (mux.ts's FUSE
// connections, sysinfo-handler.ts's listeners). Their work runs in a host process (the
// supervisor, a cold `box run`), outside the container's cgroup: a container reading
// /proc/meminfo or calling sysinfo(2) in a loop would otherwise make the host burn CPU its
// `--cpus` never counts — and slow every other container the same process serves. Over its
// budget for the current window, a container's connections are left out of the poll until the
// window ends: its own calls wait (they are queued by the kernel, never failed), and the cost
// to the host stays bounded by the budget, whatever the container does.
export class Budget {
  private spent = new Map<string, number>();
  private since = Date.now();

  constructor(readonly perWindow: number, readonly windowMs: number, private now: () => number = Date.now) {
    this.since = now();
  }

  /** One request of `owner` served. */
  spend(owner: string) {
    this.roll();
    this.spent.set(owner, (this.spent.get(owner) ?? 0) + 1);
  }

  /** Whether `owner` may be served in this window. */
  allows(owner: string): boolean {
    this.roll();
    return (this.spent.get(owner) ?? 0) < this.perWindow;
  }

  /** Milliseconds until the window ends (when every owner may be served again). */
  msLeft(): number {
    return Math.max(1, this.since + this.windowMs - this.now());
  }

  private roll() {
    const t = this.now();
    if (t - this.since >= this.windowMs) { this.spent.clear(); this.since = t; }
  }
}

/**
 * The views' budgets, per container: 100 FUSE requests per 100 ms (1000/s: a `cat` of a view
 * file is 3 requests — open, read, release — so ~330 reads a second) and 50 sysinfo(2) answers
 * per 100 ms (each costs ~350 µs of the host process, twice a file read's), against the one
 * read a second of `top` or the few dozen at a runtime's start. Measured at the ceiling
 * (bench/procview.ts): a container flooding either keeps the serving process 16–20% busy.
 */
export const VIEW_BUDGET = { perWindow: 100, windowMs: 100 };
export const SYSINFO_BUDGET = { perWindow: 50, windowMs: 100 };
