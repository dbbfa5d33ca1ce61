// box exec [-i] [-t] [-d] [-e K=V] [--env-file FILE] [-w DIR] [-u USER] CONTAINER COMMAND [ARG...]
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
import { readEnvFile } from '../options/run';

export async function exec(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('exec', args, {
    interactive: { type: 'boolean', short: 'i' }, tty: { type: 'boolean', short: 't' }, detach: { type: 'boolean', short: 'd' },
    env: { type: 'string', short: 'e', multiple: true }, 'env-file': { type: 'string', multiple: true }, workdir: { type: 'string', short: 'w' }, user: { type: 'string', short: 'u' },
  });
  if (positionals.length < 2) throw new BoxError('box exec: requires at least 2 arguments: CONTAINER COMMAND [ARG...]');
  const [ref, ...command] = positionals;
  const s = get(ref);
  // Docker's order: the files first, then -e (a later KEY wins); parsed as run's --env-file
  let fromFiles: string[];
  try {
    fromFiles = (v['env-file'] ?? []).flatMap((f: string) => readEnvFile(f, process.env)).filter((e: string | null): e is string => e !== null);
  } catch (e: any) {
    throw new BoxError(e.message.replace(/^box run:/, 'box exec:'));
  }
  const all: string[] = [...fromFiles, ...(v.env ?? [])];
  const env = v['env-file'] ? all.filter((e, i) => !all.slice(i + 1).some((x) => x.split('=')[0] === e.split('=')[0])) : v.env;
  const o = { command, env, workdir: v.workdir, user: v.user, tty: !!v.tty, stdin: !!v.interactive, detach: !!v.detach };
  if (!o.detach) checkInputTerminal('exec', o.tty, o.stdin);
  let stage: number | undefined;
  const unforward = forwardSignals(() => stage);
  try {
    return await execIn(s, o, { ...attachedIO(o.tty, o.stdin, o.detach), onSpawn: (c) => { stage = c.pid; } });
  } finally {
    unforward();
  }
}
