// box rename CONTAINER NEW_NAME: Docker's checks (name syntax, the name in use, the same name),
// running containers included: a name is only the store's link to the id (lib/state/names.ts).
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { NAME_RE } from '../options/run';
import { get } from '../container/query';
import { renameContainer } from '../state/names';

export function rename(args: string[]): number {
  const { positionals } = parseCommand('rename', args, {}, true);
  if (positionals.length !== 2) throw new BoxError('box rename: "rename" requires exactly 2 arguments: CONTAINER NEW_NAME');
  const [ref, to] = positionals;
  if (!ref || !to) throw new BoxError('box rename: Neither old nor new names may be empty');
  const name = to.replace(/^\//, ''); // Docker accepts "/name"
  if (!NAME_RE.test(name)) throw new BoxError(`box rename: Invalid container name (${to}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  renameContainer(get(ref).id, name);
  return 0;
}
