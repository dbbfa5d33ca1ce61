// box pull [--insecure] NAME[:TAG|@DIGEST]   box import FILE|DIR [REPO[:TAG]]
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { pullImage } from '../image/pull';
import { importImage } from '../image/import';

function root(verb: string) {
  if (process.geteuid!() !== 0) throw new BoxError(`box ${verb}: must be run as root (layers keep their owners and device nodes)`);
}

export async function pull(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('pull', args, { insecure: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new BoxError('box pull: requires exactly 1 argument: NAME[:TAG|@DIGEST]');
  root('pull');
  await pullImage(positionals[0], { insecure: !!v.insecure, out: process.stdout });
  return 0;
}

export async function importCmd(args: string[]): Promise<number> {
  const { positionals } = parseCommand('import', args, {}, true);
  if (positionals.length < 1 || positionals.length > 2) throw new BoxError('box import: requires 1 or 2 arguments: FILE|DIR [REPO[:TAG]]');
  root('import');
  process.stdout.write(await importImage(positionals[0], positionals[1]) + '\n');
  return 0;
}
