// `start`: one byte into the exec fifo releases the init waiting at its gate
// (lib/inside/init.ts), which runs the startContainer hooks and execs the user's process.
// The fifo goes with it, so a second start finds none; poststart hooks run here, after.
import * as fs from 'node:fs';
import { OciStore, status, stateJson } from './state';
import { runHooks } from './hooks';
import { OciError } from './errors';

export function ociStart(store: OciStore, id: string, warn: (w: string) => void) {
  const r = store.load(id);
  const s = status(store, r);
  if (s !== 'created') throw new OciError(`cannot start a container that is ${s === 'stopped' ? 'stopped' : 'already running'}: ${id}`, 'state');
  let fd: number;
  try {
    // non-blocking: ENXIO when no reader has it open (the init died since the check)
    fd = fs.openSync(store.fifo(id), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (e: any) {
    throw new OciError(`cannot start container ${id}: its init is gone (${e.code})`, 'state');
  }
  try {
    fs.writeSync(fd, '0');
  } finally {
    fs.closeSync(fd);
  }
  fs.rmSync(store.fifo(id), { force: true });
  try {
    runHooks(r.hooks.poststart, JSON.stringify(stateJson(store, r, 'running')), 'poststart');
  } catch (e: any) {
    warn(e.message); // the spec: a failing poststart hook is logged, the container keeps running
  }
}
