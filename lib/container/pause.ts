// Pausing a container: every process of it frozen by the cgroup freezer (v1 freezer.state,
// v2 cgroup.freeze), as Docker's pause — the processes do not notice, nothing is signalled.
// The record says `paused` so that ps, inspect and exec can tell; a frozen PID 1 still
// counts as running.
import { update } from '../state/store';
import { managerForDirs } from '../cgroup/manager';
import { ContainerError } from './errors';
import { get, isRunning } from './query';

export function pause(ref: string): void {
  const s = get(ref);
  if (!isRunning(s)) throw new ContainerError('not-running', `box pause: container ${ref} is not running`);
  if (s.paused) throw new ContainerError('state', `box pause: container ${ref} is already paused`);
  managerForDirs(s.cgroups).freeze();
  setPaused(s.id, true);
}

export function resume(ref: string): void {
  const s = get(ref);
  if (!isRunning(s)) throw new ContainerError('not-running', `box unpause: container ${ref} is not running`);
  if (!s.paused) throw new ContainerError('state', `box unpause: container ${ref} is not paused`);
  managerForDirs(s.cgroups).thaw();
  setPaused(s.id, false);
}

export function setPaused(id: string, paused: boolean) {
  update(id, (s) => { s.paused = paused; });
}
