// box stop [-t N] CONTAINER...   box kill [-s SIGNAL] CONTAINER...
// stop: the container's stop signal to PID 1, wait N seconds (its --stop-timeout, else
// 10), then SIGKILL; returns once box has recorded the exit. kill: one signal, default KILL.
import * as os from 'node:os';
import { parseCommand } from '../options/flags';
import { find, load, ContainerState } from '../state/store';
import { BoxError } from '../libc/errors';
import { forEachContainer } from './each';
import { running } from './running';
import { sleepMs } from '../cgroup/manager';
import { signalProcess } from '../util/proc';

export function signalNumber(sig: string): number {
  if (/^\d+$/.test(sig)) return Number(sig);
  const name = sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
  const n = (os.constants.signals as Record<string, number>)[name];
  if (!n) throw new BoxError(`box: invalid signal: ${sig}`);
  return n;
}

/** Wait until box (run or the supervisor) has recorded that the container stopped. */
export function waitStopped(s: ContainerState, ms: number): boolean {
  const end = Date.now() + ms;
  for (;;) {
    const now = load(s.id);
    if (!now || now.status !== 'running' || !running(now)) return true;
    if (Date.now() > end) return false;
    sleepMs(20);
  }
}

export function stop(args: string[]): number {
  const { values: v, positionals } = parseCommand('stop', args, { time: { type: 'string', short: 't' }, signal: { type: 'string', short: 's' } }, true);
  if (!positionals.length) throw new BoxError('box stop: requires at least 1 argument');
  return forEachContainer(positionals, (ref) => {
    const s = find(ref);
    if (running(s)) {
      const secs = v.time !== undefined ? Number(v.time) : s.spec.stopTimeout ?? 10;
      if (!Number.isFinite(secs)) throw new BoxError(`box stop: invalid --time "${v.time}"`);
      signalProcess(s.pid!, s.pidStart, signalNumber(v.signal ?? s.spec.stopSignal ?? 'SIGTERM')); // false: gone already
      if (!waitStopped(s, Math.max(0, secs) * 1000)) {
        signalProcess(s.pid!, s.pidStart, 'SIGKILL');
        waitStopped(s, 10000);
      }
    }
  });
}

export function kill(args: string[]): number {
  const { values: v, positionals } = parseCommand('kill', args, { signal: { type: 'string', short: 's' } }, true);
  if (!positionals.length) throw new BoxError('box kill: requires at least 1 argument');
  const sig = signalNumber(v.signal ?? 'SIGKILL');
  return forEachContainer(positionals, (ref) => {
    const s = find(ref);
    if (!running(s)) throw new BoxError(`box: cannot kill container: ${ref}: container is not running`);
    if (!signalProcess(s.pid!, s.pidStart, sig)) throw new BoxError(`box: cannot kill container: ${ref}: container is not running`);
    if (sig === 9) waitStopped(s, 10000);
  });
}
