// The /proc view given back to a running container whose server died (its supervisor was
// SIGKILLed): an `__exec` stage with ExecConfig.view, started by the successor that adopts it
// (lib/procview/reattach.ts). It joins the container's MOUNT namespace only — never its pid
// namespace (a Node process must never be visible inside: DESIGN.md "Threads"), so no process
// of the container can see, signal or ptrace it — and for each view file: unmounts the dead
// `box-view` mount on it (only a fuse mount of that source, as mountinfo says: nothing of the
// container's own), then mounts the fresh /dev/fuse fd there, and exits without exec.
//
// Paths: after setns the root is the container's, and unlike at setup the container has run
// (and may be hostile): each target is resolved inside it with openat2(RESOLVE_IN_ROOT|
// NO_SYMLINKS|NO_MAGICLINKS) — no symlink at all on the way, planted or not — must be a regular file of the
// container's own /proc or /sys (the same check as the plan's 'procview' op), and is named to
// mount(2)/umount2(2) as fd/N relative to a directory fd on the HOST's /proc/<self> opened
// before setns (the container's /proc has no /proc/self for a process outside its pid ns).
// If a mount fails, the real file shows through (the dead mount is gone): the fallback.
import * as fs from 'node:fs';
import { libc } from '../libc/seam';
import { CLONE, MNT_DETACH } from '../libc/constants';
import { fchdir, openat2, O_PATH, O_CLOEXEC, RESOLVE } from '../libc/paths';
import { openRoot } from '../mount/resolve';
import { VIEW_FLAGS, viewData } from '../mount/execute';
import { FD_SOCKET, sendMessage } from './protocol';
import type { ExecConfig } from './exec';

export function reattachViews(cfg: ExecConfig, ns: Map<string, number>): never {
  const files = cfg.view!.files;
  const fds = files.map(() => libc.recvFd(FD_SOCKET));
  const self = libc.open('/proc/self', O_PATH | fs.constants.O_DIRECTORY | O_CLOEXEC);
  libc.unshare(CLONE.FS); // setns(mnt) is EINVAL while threads share fs_struct
  libc.setns(ns.get('mnt')!, 0, 'mnt');
  for (const fd of ns.values()) libc.close(fd);
  fchdir(self, 'the host\'s /proc/self');
  const done: string[] = [];
  const failed: string[] = [];
  for (const [i, f] of files.entries()) {
    try {
      // the mounts of this (the container's) namespace, as this task sees them now
      const top = fs.readFileSync('mountinfo', 'utf8').split('\n').map((l) => l.split(' ')).filter((p) => p[4] === f.target).pop();
      const sep = top ? top.indexOf('-') : -1;
      if (top && top[sep + 1] === 'fuse' && top[sep + 2] === 'box-view') {
        strict(f.target, (pfd) => libc.umount2(`fd/${pfd}`, MNT_DETACH)); // the magic link followed: to the mount resolved in the root, nothing else
      }
      strict(f.target, (pfd) => {
        const kernelFs = f.target.startsWith('/sys/') ? '/sys' : '/proc';
        const dev = strict(kernelFs, (k) => libc.fstat(k).dev);
        const st = libc.fstat(pfd);
        if (!st.isFile() || st.dev !== dev) throw new Error(`${f.target}: not the kernel's own file (a volume?): left as it is`);
        libc.mount('box-view', `fd/${pfd}`, 'fuse', VIEW_FLAGS, viewData(fds[i]));
      });
      done.push(f.target);
    } catch (e: any) {
      failed.push(`${f.target}: ${e.message}`);
    }
  }
  for (const fd of fds) libc.close(fd);
  sendMessage({ ready: true, mounted: done, failed });
  libc.exit(0);
}

/** `p` resolved in the current root (the container's) with no symlink followed, as an O_PATH fd for `use`. */
function strict<T>(p: string, use: (fd: number) => T): T {
  const root = openRoot('/');
  try {
    const fd = openat2(root, p, O_PATH | O_CLOEXEC, RESOLVE.IN_ROOT | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS, p);
    try { return use(fd); } finally { libc.close(fd); }
  } finally { libc.close(root); }
}
