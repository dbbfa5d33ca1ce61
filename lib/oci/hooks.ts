// OCI hooks (config.md "POSIX-platform Hooks"): each runs with the container's state JSON on
// stdin, its own args (args[0] is argv[0]) and env only, and is killed at its timeout. A
// failing createRuntime/createContainer/startContainer/prestart hook fails the container; a
// failing poststart/poststop hook is a warning, as the spec says. Where a hook runs decides
// its namespaces: createRuntime, prestart, poststart and poststop from the runtime (host
// side); createContainer and startContainer from the container's init (lib/inside/init.ts),
// whose children are born in the container's namespaces.
import type { Hook } from '../options/types';

export function runHooks(hooks: Hook[], state: string, kind: string) {
  if (!hooks.length) return;
  // required here: every __init stage loads this file, few run hooks (child_process brings net and streams, ~8 ms)
  const { spawnSync }: typeof import('node:child_process') = require('node:child_process');
  for (const h of hooks) {
    const [argv0, ...args] = h.args?.length ? h.args : [h.path];
    const env = Object.fromEntries((h.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    const r = spawnSync(h.path, args, { argv0, input: state, env, timeout: h.timeout ? h.timeout * 1000 : undefined, killSignal: 'SIGKILL', stdio: ['pipe', 'ignore', 'pipe'] });
    if (r.error || r.status !== 0) {
      const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
      const why = timedOut ? `timed out after ${h.timeout}s (killed)` : r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
      const err = String(r.stderr ?? '').trim();
      throw new Error(`${kind} hook ${h.path}: ${why}${err ? `: ${err}` : ''}`);
    }
  }
}
