// Docker copies the image's files at a volume's mount point into a new, empty volume. Done
// here, on the host, at create, by the one create that claimed the volume's first use: the
// files are read from the image's layers (top first, overlayfs' whiteouts and opaque
// directories applied as the merged view would show them) and copied into a fresh directory
// beside _data that no container can reach, then swapped in — so no container can race the
// copy, and nothing follows the image's symlinks: they are copied as symlinks, whiteouts are
// applied through openat2(RESOLVE_IN_ROOT) inside the copy, and a mount path that crosses a
// symlink in the image is not copied at all (Docker would follow it inside the container).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { copyTree } from '../mount/copy';
import { withResolved } from '../mount/resolve';
import { procFd } from '../libc/paths';

interface LayerView { dir: string; opaqueHere: boolean }

const isWhiteout = (st: fs.Stats) => st.isCharacterDevice() && Number(st.rdev) === 0;

function whiteouts(layer: string): { removed: string[]; opaque: string[] } {
  try { return JSON.parse(fs.readFileSync(path.join(path.dirname(layer), 'whiteouts.json'), 'utf8')); } catch { return { removed: [], opaque: [] }; }
}
const rel = (p: string) => p.replace(/^\/+/, '').replace(/\/+$/, '');

/** The layers whose directory at `target` shows in the merged view, top first; undefined: nothing to copy. */
function visibleLayers(topFirst: string[], target: string): LayerView[] | undefined {
  const parts = rel(target).split('/').filter(Boolean);
  const out: LayerView[] = [];
  for (const layer of topFirst) {
    const opaque = new Set(whiteouts(layer).opaque.map(rel));
    let stop = false, present = true;
    for (let i = 1; i <= parts.length; i++) {
      const sub = parts.slice(0, i).join('/');
      let st: fs.Stats;
      try { st = fs.lstatSync(path.join(layer, sub)); } catch { present = false; break; }
      if (st.isSymbolicLink()) return out.length ? out : undefined; // resolved inside the container by Docker: not here
      if (isWhiteout(st) || !st.isDirectory()) { present = false; stop = true; break; } // removed, or a file: lower layers hidden
      if (opaque.has(sub)) stop = true; // this layer's directory hides the lower ones
    }
    if (present) out.push({ dir: path.join(layer, ...parts), opaqueHere: stop });
    if (stop) break;
  }
  return out.length ? out : undefined;
}

/**
 * Fill the volume's data directory with what the image has at `target`, if it is empty (Docker's
 * rule). The copy is made in a new directory beside _data and renamed over it.
 */
export function populateVolume(volumeDir: string, topFirst: string[], target: string) {
  const data = path.join(volumeDir, '_data');
  if (fs.readdirSync(data).length) return;
  const layers = visibleLayers(topFirst, target);
  if (!layers) return;
  const tag = crypto.randomBytes(4).toString('hex');
  const fresh = path.join(volumeDir, `_new-${tag}`), old = path.join(volumeDir, `_old-${tag}`);
  fs.mkdirSync(fresh, { mode: 0o700 });
  try {
    const prefix = rel(target) + '/';
    for (const layer of [...layers].reverse()) { // bottom-up, each layer's whiteouts first
      const root = layer.dir.slice(0, layer.dir.length - rel(target).length - 1) || '/';
      const wh = whiteouts(root);
      for (const r of wh.removed.map(rel).filter((r) => r.startsWith(prefix)).map((r) => r.slice(prefix.length))) {
        const name = path.posix.basename(r);
        try { withResolved(fresh, path.posix.dirname(r), {}, (dir) => fs.rmSync(path.join(procFd(dir), name), { recursive: true, force: true })); } catch { /* not there */ }
      }
      for (const d of wh.opaque.map(rel).filter((o) => o.startsWith(prefix)).map((o) => o.slice(prefix.length))) {
        try {
          withResolved(fresh, d, {}, (dir) => { for (const e of fs.readdirSync(procFd(dir))) fs.rmSync(path.join(procFd(dir), e), { recursive: true, force: true }); });
        } catch { /* not there, or not a directory */ }
      }
      // devices are left out: a volume is host storage, and the container has /dev
      copyTree(layer.dir, fresh, (st) => st.isCharacterDevice() || st.isBlockDevice());
    }
    const top = fs.lstatSync(layers[0].dir); // the volume's root as the image's directory
    fs.chownSync(fresh, top.uid, top.gid);
    fs.chmodSync(fresh, top.mode & 0o7777);
    if (fs.readdirSync(data).length) return; // filled meanwhile (another container wrote): kept
    fs.renameSync(data, old);
    fs.renameSync(fresh, data);
    fs.rmSync(old, { recursive: true, force: true });
  } finally {
    fs.rmSync(fresh, { recursive: true, force: true });
  }
}
