// Temporary files and directories of an import or pull in progress (a blob being hashed,
// a layer being unpacked, a decompressed archive): removed on every failure path by their
// owners' finally blocks, and here on SIGINT/SIGTERM/SIGHUP, which would otherwise end box
// without running them. What a SIGKILL leaves, `box image prune` collects (stale .tmp-*).
import * as fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';

const live = new Set<string>();
const helpers = new Set<ChildProcess>();
let hooked = false;

function onSignal(sig: NodeJS.Signals) {
  for (const c of helpers) { try { c.kill('SIGKILL'); } catch { /* gone */ } } // it writes into what goes next
  for (const p of live) { try { fs.rmSync(p, { recursive: true, force: true }); } catch { /* best effort */ } }
  live.clear();
  process.exit(128 + (({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[sig] ?? 1));
}

function hook() {
  if (hooked) return;
  hooked = true;
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
}

/** Remember `p` for removal if box is interrupted; returns `p`. */
export function track(p: string): string {
  hook();
  live.add(p);
  return p;
}

/** An untar helper writing into a tracked directory: killed first if box is interrupted. */
export function trackHelper(c: ChildProcess) {
  hook();
  helpers.add(c);
  c.on('exit', () => helpers.delete(c));
}

/** Remove `p` now (a failure, or no longer needed) and forget it. */
export function discard(p: string) {
  fs.rmSync(p, { recursive: true, force: true });
  live.delete(p);
}

/** `p` was renamed into place: nothing to remove any more. */
export const kept = (p: string) => { live.delete(p); };
