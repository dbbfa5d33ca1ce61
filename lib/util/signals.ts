// Signals by name or number, and the ones box passes on to what it runs: `box run` and
// `box exec` forward them to their stage, the `__exec` stage to the command. SIGKILL and
// SIGSTOP cannot be caught, so they never need forwarding.
import * as os from 'node:os';

export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

/** "TERM", "SIGTERM", "sigterm" or "15" → 15; undefined when no such signal. */
export function signalNumber(sig: string): number | undefined {
  if (/^\d+$/.test(sig)) { const n = Number(sig); return n >= 1 && n <= 64 ? n : undefined; }
  const name = sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
  return (os.constants.signals as Record<string, number>)[name];
}

/** Forward FORWARDED_SIGNALS received by this process to whatever `target()` names; returns the undo. */
export function forwardSignals(target: () => number | undefined): () => void {
  const forward = (sig: NodeJS.Signals) => { const pid = target(); if (pid) try { process.kill(pid, sig); } catch { /* gone */ } };
  for (const s of FORWARDED_SIGNALS) process.on(s, forward);
  return () => { for (const s of FORWARDED_SIGNALS) process.off(s, forward); };
}
