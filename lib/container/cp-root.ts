// The root a `box cp` works in, as a directory fd — never as a string path: every container
// path is then resolved from this fd (openat2 RESOLVE_IN_ROOT, lib/mount/resolve.ts) and the
// copy goes on with *at calls relative to fds (lib/container/cp.ts).
//
// Running: /proc/<PID 1>/root, opened from the host. That is the container's root in the
// container's own mount namespace, so a lookup below it crosses the container's volumes and
// tmpfs mounts as the container sees them (what Docker shows for a running container), while
// box itself stays on the host: no box process ever joins the container, so nothing of box
// (its threads, fds, host root — DESIGN.md "Threads") becomes visible inside, and no code of
// the container is ever loaded or run (CVE-2019-14271 came from a helper that did).
//
// Stopped: the writable layer and the image's layers are on the host, merged by nothing. A
// helper (box __cproot) makes a private mount namespace, mounts the container's overlay there
// and waits; box opens the merged directory through /proc/<helper>/root, then lets the helper
// exit. Its namespace dies with it; the mount stays alive, detached, for as long as box holds
// the fd, and nothing of it was ever in the host's mount table (nothing to leak if box is killed).
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { libc, closeFd } from '../libc/seam';
import { O_PATH, O_CLOEXEC } from '../libc/paths';
import { AT_FDCWD, CLONE, MS } from '../libc/constants';
import { processStart } from '../util/proc';
import { selfArgs, selfEnv } from './launch';
import { isRunning, ContainerState } from './query';
import { BoxError } from '../libc/errors';

const { O_DIRECTORY } = fs.constants;

export interface ContainerRoot { fd: number; close(): void }

/** An O_PATH fd on the container's root, and how to let go of it. */
export async function openContainerRoot(s: ContainerState): Promise<ContainerRoot> {
  const plain = (fd: number) => ({ fd, close: () => closeFd(fd) });
  // Running, or created and held before `start` by its stage (which has the container's overlay
  // mounted already: a second mount of the same upper layer would be undefined behaviour)
  const live = !!s.pid && (isRunning(s) || (s.status === 'created' && processStart(s.pid) === s.pidStart));
  if (live) return plain(await procRoot(s));
  const r = s.rootfs;
  if (r.copy) return plain(libc.openat(AT_FDCWD, r.merged, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, r.merged)); // no overlay: merged is the tree
  // teardown removed the overlay's work directory when the container exited: the helper makes
  // it again for its mount, and it goes again once the mount is released
  const hadWork = fs.existsSync(r.work!);
  const fd = await mountedElsewhere(s);
  return {
    fd,
    close: () => {
      closeFd(fd); // the last reference to the detached overlay: it is unmounted now
      if (!hadWork) try { fs.rmSync(r.work!, { recursive: true, force: true }); } catch { /* still busy: the next start reuses it */ }
    },
  };
}

/**
 * /proc/<PID 1>/root, checked twice: still the recorded process after the open (not a reused
 * pid), and not the host's root — a created container's stage records its pid before it has
 * pivoted into the container's root; box waits for that (never works on the host's root).
 */
async function procRoot(s: ContainerState): Promise<number> {
  const host = fs.statSync('/');
  for (let tries = 0; ; tries++) {
    const fd = libc.openat(AT_FDCWD, `/proc/${s.pid}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 'container root');
    const st = libc.fstat(fd);
    if (processStart(s.pid!) !== s.pidStart) { closeFd(fd); throw new BoxError(`box cp: container ${s.name || s.id} stopped meanwhile`); }
    if (st.dev !== host.dev || st.ino !== host.ino) return fd;
    closeFd(fd);
    if (tries > 100) throw new BoxError(`box cp: container ${s.name || s.id} is still being set up`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function mountedElsewhere(s: ContainerState): Promise<number> {
  const child = spawn(process.execPath, [...selfArgs(), '__cproot', s.id], { env: selfEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; if (out.includes('\n')) resolve(); });
      child.on('error', reject);
      child.on('close', (code) => reject(new BoxError(`box cp: cannot mount the container's filesystem: ${err.trim().split('\n').pop() || `status ${code}`}`)));
    });
    // box's own path, walked in the helper's mount namespace (a trusted string, not the container's)
    return libc.openat(AT_FDCWD, `/proc/${child.pid}/root${s.rootfs.merged}`, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, s.rootfs.merged);
  } finally {
    child.stdin!.end(); // the helper exits on EOF; its namespace goes, the mount stays while we hold the fd
    child.stdout!.resume();
    await closed;
  }
}

/**
 * `box __cproot ID`: the helper. A mount namespace of its own (unshare from the main thread;
 * nothing here uses a path from another thread), the container's overlay mounted on its merged
 * directory as the container's start would, "ready" on stdout, then it waits for EOF on stdin.
 */
export function cpRootHelper(id: string): Promise<number> {
  const { load } = require('../state/store') as typeof import('../state/store');
  const s = load(id);
  if (!s || !s.rootfs.upper || !s.rootfs.work) { process.stderr.write('no overlay layout\n'); return Promise.resolve(1); }
  const r = s.rootfs;
  fs.mkdirSync(r.work!, { recursive: true }); // teardown removed it when the container exited (box removes it again)
  libc.unshare(CLONE.NEWNS);
  libc.mount(null, '/', null, MS.REC | MS.PRIVATE);
  libc.mount('overlay', r.merged, 'overlay', 0, `lowerdir=${r.lower.join(':')},upperdir=${r.upper},workdir=${r.work}`);
  process.stdout.write('ready\n');
  return new Promise((resolve) => {
    process.stdin.on('end', () => resolve(0)).on('error', () => resolve(0)).resume();
  });
}
