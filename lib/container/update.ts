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
  const { merged, writes } = mergeResources(s.spec.resources, changes);
  const result = managerForDirs(s.cgroups).update(writes);
  updateRecord(s.id, (now) => { now.spec.resources = merged; });
  return result.warnings;
}

/**
 * The limits after an update (Docker's rules) and what must be written for it: the fields
 * that changed plus those the kernel needs with them (quota with period, swap with memory).
 * Pure: unit-tested.
 */
export function mergeResources(current: Resources, changes: Partial<Resources>): { merged: Resources; writes: Partial<Resources> } {
  const merged: Resources = { ...current, ...changes };
  // --cpus and --cpu-period/--cpu-quota are exclusive: the new kind replaces the old
  if (changes.nanoCpus !== undefined) { delete merged.cpuQuota; delete merged.cpuPeriod; }
  if (changes.cpuQuota !== undefined || changes.cpuPeriod !== undefined) delete merged.nanoCpus;
  if (merged.memory && merged.memorySwap !== undefined && merged.memorySwap !== -1 && merged.memorySwap < merged.memory) {
    throw new ContainerError('invalid', changes.memorySwap === undefined
      ? 'box update: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time'
      : 'box update: Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (changes.memorySwap !== undefined && !merged.memory) throw new ContainerError('invalid', 'box update: You should always set the Memory limit when using Memoryswap limit, see usage');
  const writes: Partial<Resources> = { ...changes };
  if (changes.cpuQuota !== undefined || changes.cpuPeriod !== undefined) { writes.cpuQuota = merged.cpuQuota; writes.cpuPeriod = merged.cpuPeriod; }
  if (changes.memory !== undefined || changes.memorySwap !== undefined) { writes.memory = merged.memory; writes.memorySwap = merged.memorySwap; }
  return { merged, writes };
}
