// Changing a running (or created) container's limits, as `docker update`: the new values are
// checked together with the ones it keeps, written to its cgroups live, and recorded, so
// that inspect shows them and a later check sees them.
import { update as updateRecord, ownerAlive } from '../state/store';
import { Resources } from '../options/resources';
import { managerForDirs } from '../cgroup/manager';
import { ContainerError } from './errors';
import { get, isRunning } from './query';

/** Docker's warnings for what this host could not apply (those limits are dropped). */
export function update(ref: string, changes: Partial<Resources>): string[] {
  const s = get(ref);
  if (!isRunning(s) && !(s.status === 'created' && ownerAlive(s))) throw new ContainerError('not-running', `box update: container ${ref} is not running`);
  const merged: Resources = { ...s.spec.resources, ...changes };
  // --cpus and --cpu-period/--cpu-quota are exclusive: the new kind replaces the old
  if (changes.nanoCpus !== undefined) { delete merged.cpuQuota; delete merged.cpuPeriod; }
  if (changes.cpuQuota !== undefined || changes.cpuPeriod !== undefined) delete merged.nanoCpus;
  if (merged.memory && merged.memorySwap !== undefined && merged.memorySwap !== -1 && merged.memorySwap < merged.memory) {
    throw new ContainerError('invalid', 'box update: Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  // a new memory limit without --memory-swap gets Docker's default swap again (as much as memory), unless swap was unlimited
  if (changes.memory !== undefined && changes.memorySwap === undefined && merged.memorySwap !== -1) delete merged.memorySwap;
  const result = managerForDirs(s.cgroups).update(pick(merged, changes));
  updateRecord(s.id, (now) => { now.spec.resources = merged; });
  return result.warnings;
}

/** The fields that changed, plus the ones the kernel needs written with them (quota with period, swap with memory). */
function pick(merged: Resources, changes: Partial<Resources>): Partial<Resources> {
  const out: Partial<Resources> = { ...changes };
  if (changes.cpuQuota !== undefined || changes.cpuPeriod !== undefined) { out.cpuQuota = merged.cpuQuota; out.cpuPeriod = merged.cpuPeriod; }
  if (changes.memory !== undefined || changes.memorySwap !== undefined) { out.memory = merged.memory; out.memorySwap = merged.memorySwap; }
  return out;
}
