// /proc/swaps for a container with a memory limit: one virtual device holding its swap
// allowance (lxcfs's form); nothing when it may not swap. Without a limit, the host's file.

export function swaps(host: string, swap: { total: number; used: number } | undefined): string {
  if (!swap) return host;
  const head = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';
  return swap.total > 0 ? `${head}none\t\t\t\t\tvirtual\t\t${swap.total}\t\t${swap.used}\t\t0\n` : head;
}
