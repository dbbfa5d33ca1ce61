// box prune: remove every container that is not running, after collecting what crashed
// boxes left (cgroups, records of containers whose owner died).
import { list, removeRecord } from '../state/store';
import { collect } from '../state/collect';
import { running } from './running';

export function prune(_args: string[]): number {
  collect();
  const gone = list().filter((s) => !running(s) && s.status !== 'created');
  for (const s of gone) { removeRecord(s); process.stdout.write(`${s.id}\n`); }
  process.stdout.write(`Total reclaimed: ${gone.length} container${gone.length === 1 ? '' : 's'}\n`);
  return 0;
}
