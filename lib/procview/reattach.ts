// A successor supervisor gives an adopted container its /proc view back (issue 16 part 4):
// the dead server's connections now fail with ENOTCONN; fresh ones are opened here and a
// short-lived `__exec` stage (lib/inside/view-reattach.ts) mounts them over the dead mounts,
// in the container's mount namespace only. Then this process serves them as its own.
import { ContainerState } from '../state/store';
import { Stage } from '../container/stage';
import type { ExecConfig } from '../inside/exec';
import { openView, serveView, releaseView } from './host';

/** Undefined when it worked; else why (the container keeps running, with the real files or ENOTCONN). */
export async function reattachView(s: ContainerState, log: (l: string) => void = () => {}): Promise<string | undefined> {
  const view = openView(s.id);
  if (!view) return 'no /dev/fuse';
  const cfg: ExecConfig = {
    pid: s.pid!, pidStart: s.pidStart ?? '', namespaces: s.namespaces ?? {},
    owner: { ...s.owner, fds: s.namespaceFds ?? {} },
    candidates: '', cgroupProcs: [], detach: false,
    stage: { spec: s.spec, rootfs: s.rootfs, cgroupProcs: [], cgroupns: false },
    view: { files: view.files },
  };
  const stage = new Stage('__exec', 'procview reattach', ['ignore', 'ignore', 'ignore'], { detached: true });
  try {
    stage.sendFds(view.fds);
    stage.send(cfg);
    const msg = await nextReady(stage);
    if (msg.failed?.length) log(`procview: ${s.id.slice(0, 12)}: ${msg.failed.join('; ')}`);
    serveView(s.id, () => s.pid, view); // unless a restart opened the container's next view meanwhile
    await stage.exited;
    return undefined;
  } catch (e: any) {
    releaseView(s.id, view);
    return e.message;
  } finally {
    stage.close();
  }
}

async function nextReady(stage: Stage): Promise<any> {
  const msg = await stage.next(undefined, { id: '', status: 'running' });
  if (!msg?.ready) throw await stage.failure(msg);
  return msg;
}
