// Carries out a mount plan. Runs inside the stage only, after unshare(CLONE_NEWNS): every
// mount here lives and dies with the container's mount namespace, none reaches the host.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as libc from '../libc';
import { MS, MNT_DETACH } from '../libc/constants';
import { MountOp } from './plan';
import { secureJoin } from './securejoin';
import { copyTree } from './copy';

export function executePlan(ops: MountOp[], root: string) {
  for (const op of ops) step(op, root);
}

/** Paths under the rootfs are resolved with secureJoin until pivot; after it they are container paths. */
function inside(root: string, p: string): string {
  return p === root || !p.startsWith(root + '/') ? p : secureJoin(root, p.slice(root.length));
}

function step(op: MountOp, root: string) {
  switch (op.op) {
    case 'private-root':
      libc.mount(null, '/', null, MS.REC | MS.PRIVATE);
      return;
    case 'copy-rootfs':
      copyLayers(op.from, op.to);
      return;
    case 'mount': {
      const target = inside(root, op.target);
      if (op.mkdir) makeMountpoint(target, op.source);
      libc.mount(op.source, target, op.fstype, op.flags, op.data ?? null);
      return;
    }
    case 'mkdir':
      fs.mkdirSync(inside(root, op.path), { recursive: true, mode: op.mode });
      return;
    case 'file':
      fs.closeSync(fs.openSync(inside(root, op.path), 'a', 0o600));
      return;
    case 'mknod': {
      const p = inside(root, op.path);
      libc.mknod(p, op.major, op.minor, op.mode);
      fs.chmodSync(p, op.mode); // mknod's mode went through the umask
      return;
    }
    case 'symlink':
      fs.symlinkSync(op.target, inside(root, op.path));
      return;
    case 'remount-ro':
      libc.mount(null, inside(root, op.path), null, MS.REMOUNT | MS.RDONLY | op.flags);
      return;
    case 'pivot':
      enterRoot(op.root, op.noPivot);
      return;
    case 'mask':
      mask(op.path);
      return;
    case 'readonly':
      if (!fs.existsSync(op.path)) return;
      libc.mount(op.path, op.path, null, MS.BIND | MS.REC);
      libc.mount(null, op.path, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
      return;
  }
}

/**
 * Without overlayfs: copy the layers bottom-up, applying each one's whiteouts first (the
 * list unpacking wrote beside it): a removed path goes, an opaque directory is emptied.
 */
function copyLayers(topFirst: string[], to: string) {
  for (const layer of [...topFirst].reverse()) {
    let wh = { removed: [] as string[], opaque: [] as string[] };
    try { wh = JSON.parse(fs.readFileSync(path.join(path.dirname(layer), 'whiteouts.json'), 'utf8')); } catch { /* a plain rootfs */ }
    for (const r of wh.removed) fs.rmSync(secureJoin(to, r), { recursive: true, force: true });
    for (const d of wh.opaque) {
      const dir = secureJoin(to, d);
      if (fs.existsSync(dir)) for (const e of fs.readdirSync(dir)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
    }
    copyTree(layer, to, (st) => st.isCharacterDevice() && st.rdev === 0); // overlay whiteouts: applied above
  }
}

function makeMountpoint(target: string, source: string) {
  let isDir = true;
  if (source.startsWith('/')) {
    try { isDir = fs.statSync(source).isDirectory(); } catch { /* a fs type, not a path */ }
  }
  if (isDir) fs.mkdirSync(target, { recursive: true, mode: 0o755 });
  else if (!fs.existsSync(target)) {
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    fs.closeSync(fs.openSync(target, 'a', 0o644));
  }
}

/**
 * pivot_root(".", ".") stacks the old root under the new one; unmounting "." (lazily)
 * then removes it, so nothing of the host stays reachable. pivot_root is EINVAL when the
 * current root is not a mount (initramfs/rootfs): then MS_MOVE + chroot, as runc does.
 */
function enterRoot(root: string, noPivot: boolean) {
  libc.chdir(root);
  if (!noPivot) {
    try {
      libc.pivotRoot('.', '.');
      libc.umount2('.', MNT_DETACH);
      libc.chdir('/');
      return;
    } catch (e: any) {
      if (e.code !== 'EINVAL') throw e;
    }
  }
  libc.mount(root, '/', null, MS.MOVE);
  libc.chroot('.');
  libc.chdir('/');
}

function mask(p: string) {
  let st: fs.Stats;
  try { st = fs.statSync(p); } catch { return; }
  if (st.isDirectory()) libc.mount('tmpfs', p, 'tmpfs', MS.RDONLY, 'size=0,mode=755');
  else libc.mount('/dev/null', p, null, MS.BIND);
}
