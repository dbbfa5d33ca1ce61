// Exit statuses, Docker's way: the command's own, 128+N for death by signal N,
// 125 for box's errors, 126 cannot invoke, 127 not found.
import * as os from 'node:os';

export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (os.constants.signals[signal] ?? 0);
  return code ?? 0;
}
