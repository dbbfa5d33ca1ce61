// Who serves the /proc view: the host process that runs the container (whoever calls
// runContainer — the supervisor for pooled and detached runs, the `box run` client for a cold
// one, a library caller), through one process-wide ViewMux, created on first use. Per
// container: `openView` opens one /dev/fuse fd per file before the stage gets its config (the
// stage mounts each over its target: lib/mount/plan.ts's 'procview' op), `serveView` once the
// stage said "ready" (a connection polls POLLERR until it is mounted), `releaseView` at the
// end (the connections close; a reader still inside then gets ENOTCONN).
//
// Nothing is loaded or opened when the view is off (--proc-view=false, OCI mode) or /dev/fuse
// is missing (`viewSupport` says why, for `box info`): the container then sees the real files.
import * as fs from 'node:fs';
import type { FileKind } from './tree';
import type { ViewMux } from './mux';

/** Each view file and the real file it is mounted over, inside the container. */
export const VIEW_TARGETS: Record<FileKind, string> = {
  meminfo: '/proc/meminfo', cpuinfo: '/proc/cpuinfo', stat: '/proc/stat', uptime: '/proc/uptime',
  loadavg: '/proc/loadavg', swaps: '/proc/swaps', diskstats: '/proc/diskstats',
  'cpu-online': '/sys/devices/system/cpu/online',
};

export interface ViewFile { kind: FileKind; target: string }

let mux: ViewMux | undefined;
const open = new Map<string, { fds: number[]; files: ViewFile[]; served: boolean; gen: number }>();
let generation = 0;

/** Whether this host can serve the view, and why not. */
export function viewSupport(): { ok: boolean; why: string } {
  try {
    fs.closeSync(fs.openSync('/dev/fuse', fs.constants.O_RDWR | fs.constants.O_NONBLOCK));
    return { ok: true, why: 'FUSE, one connection per file per container, served by the process that runs it' };
  } catch (e: any) {
    return { ok: false, why: `/dev/fuse: ${e.code ?? e.message}; containers see the host's /proc files` };
  }
}

/**
 * Fresh connections for container `id` (one /dev/fuse fd per file: O_NONBLOCK for the mux,
 * O_CLOEXEC as Node opens everything: no child of this process ever holds one, or the
 * server's death would leave readers waiting instead of failing). Undefined without /dev/fuse.
 * Opening twice for one id releases the first.
 */
export function openView(id: string): { fds: number[]; files: ViewFile[]; gen: number } | undefined {
  releaseView(id);
  const files: ViewFile[] = [];
  const fds: number[] = [];
  try {
    for (const [kind, target] of Object.entries(VIEW_TARGETS) as [FileKind, string][]) {
      fds.push(fs.openSync('/dev/fuse', fs.constants.O_RDWR | fs.constants.O_NONBLOCK));
      files.push({ kind, target });
    }
  } catch {
    for (const fd of fds) fs.closeSync(fd);
    return undefined;
  }
  const gen = ++generation;
  open.set(id, { fds, files, served: false, gen });
  return { fds: [...fds], files, gen };
}

/** The stage mounted them: answer from now on. */
export function serveView(id: string, pid: () => number | undefined, only?: { gen: number }) {
  const v = open.get(id);
  if (!v || v.served || (only && v.gen !== only.gen)) return;
  v.served = true;
  // loaded only now: a run without the view never loads the server
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { ViewMux } = require('./mux') as typeof import('./mux');
  mux ??= new ViewMux({ log: (l) => process.env.BOX_DEBUG && process.stderr.write(l + '\n') });
  v.fds.forEach((fd, i) => mux!.add(fd, v.files[i].kind, { pid, owner: id }, () => {
    const left = open.get(id);
    if (left) left.fds = left.fds.filter((f) => f !== fd);
  }));
}

/** The container is gone (or never got going): close its connections. `only`: unless they were replaced meanwhile by another openView. */
export function releaseView(id: string, only?: { gen: number }) {
  const v = open.get(id);
  if (!v || (only && v.gen !== only.gen)) return;
  open.delete(id);
  for (const fd of v.fds) {
    if (v.served) mux!.remove(fd); else { try { fs.closeSync(fd); } catch { /* closed */ } }
  }
}

/** Tests, `box info`: connections being served. */
export const servedConnections = () => mux?.size ?? 0;
