// A pooled stage's head start on the container's mounts. Every container without options gets
// the same kernel filesystems: /proc of its pid namespace (with Docker's masks and read-only
// paths), /dev (nodes, devpts, shm, mqueue, links) and a read-only /sys of its network
// namespace, and the default sysctls. A pooled stage already has those namespaces while it
// waits for a config (lib/inside/init.ts), so it makes all of that then, off the run's path,
// under a tmpfs of its own; the run's plan (mountPlan's `prepared`) moves the three trees onto
// the rootfs. Measured: the stage's mount plan took ~11 ms of a pooled run, ~8 of it these.
//   Containment: nothing here is decided by a container or read from an image — the stage
// does not know its container yet. The staging tmpfs is mounted in the stage's own private
// mount namespace (its mounts never reach the host) over an empty directory of box's run
// directory; it, and anything left in it, goes with the old root at pivot_root. A spec that
// needs these made otherwise (mountPlan's usesPrepared) gets them made as before, and the
// prepared trees are detached first, so that no spare /proc or /sys of the container's
// namespaces stays in its mount namespace.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { libc, closeFd } from '../libc/seam';
import { MS, MNT_DETACH } from '../libc/constants';
import { O_PATH, O_CLOEXEC } from '../libc/paths';
import { RUN } from '../state/paths';
import { preparedPlan } from './plan';
import { executePlan } from './execute';
import { mountAt } from './remount';

/** Where pooled stages stage their mounts, each in its own mount namespace (an empty directory on the host). */
export const PREPARED_DIR = path.join(RUN, 'stage-fs');

/**
 * In a pooled stage, after it made its namespaces: make / private (the run's first step,
 * done now), then the kernel filesystems under PREPARED_DIR. The directory, or undefined when
 * it could not be done (the run then makes them as before; what was made is detached first).
 */
export function prepareKernelFs(dir = PREPARED_DIR): string | undefined {
  try {
    libc.mount(null, '/', null, MS.REC | MS.PRIVATE);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // the directory itself, never a symlink put in its place
    const fd = libc.open(dir, O_PATH | O_CLOEXEC | fs.constants.O_NOFOLLOW | fs.constants.O_DIRECTORY);
    try {
      mountAt('tmpfs', fd, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=700,size=64k', dir);
    } finally { closeFd(fd); }
    executePlan(preparedPlan(dir), dir);
    return dir;
  } catch {
    discardPrepared(dir);
    return undefined;
  }
}

/** Detach the staging tmpfs and whatever is mounted in it (a failed preparation, or a spec that does not use it). */
export function discardPrepared(dir = PREPARED_DIR) {
  try { libc.umount2(dir, MNT_DETACH); } catch { /* never mounted */ }
}
