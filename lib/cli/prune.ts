// box prune: remove every container that is not running, after collecting what crashed
// boxes left (cgroups, records of containers whose owner died).
import { prune as pruneContainers } from '../container/remove';

export function prune(_args: string[]): number {
  const gone = pruneContainers();
  for (const s of gone) process.stdout.write(`${s.id}\n`);
  process.stdout.write(`Total reclaimed: ${gone.length} container${gone.length === 1 ? '' : 's'}\n`);
  return 0;
}
