// box exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] CONTAINER COMMAND [ARG...]
// Runs a process in every namespace, the cgroups and the root of a running container
// (lib/container/exec.ts; the joining is lib/inside/exec.ts); box relays the user's stdio
// or terminal and forwards signals.
import { parseCommand } from '../options/flags';
import { checkInputTerminal } from '../supervisor/run-client';
import { BoxError } from '../libc/errors';
import { get } from '../container/query';
import { exec as execIn } from '../container/exec';
import { attachedIO } from '../terminal/stdio';
import { forwardSignals } from '../util/signals';

export async function exec(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('exec', args, {
    interactive: { type: 'boolean', short: 'i' }, tty: { type: 'boolean', short: 't' }, detach: { type: 'boolean', short: 'd' },
    env: { type: 'string', short: 'e', multiple: true }, workdir: { type: 'string', short: 'w' }, user: { type: 'string', short: 'u' },
  });
  if (positionals.length < 2) throw new BoxError('box exec: requires at least 2 arguments: CONTAINER COMMAND [ARG...]');
  const [ref, ...command] = positionals;
  const s = get(ref);
  const o = { command, env: v.env, workdir: v.workdir, user: v.user, tty: !!v.tty, stdin: !!v.interactive, detach: !!v.detach };
  if (!o.detach) checkInputTerminal('exec', o.tty, o.stdin);
  let stage: number | undefined;
  const unforward = forwardSignals(() => stage);
  try {
    return await execIn(s, o, { ...attachedIO(o.tty, o.stdin, o.detach), onSpawn: (c) => { stage = c.pid; } });
  } finally {
    unforward();
  }
}
