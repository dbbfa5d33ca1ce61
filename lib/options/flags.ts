// Docker-style option parsing on node:util parseArgs: options stop at the first positional
// (IMAGE), everything after belongs to the container's command. Errors name the option.
import { parseArgs, ParseArgsConfig } from 'node:util';
import { FlagError } from '../libc/errors';

export type OptionTable = NonNullable<ParseArgsConfig['options']>;

export interface Parsed { values: Record<string, any>; positionals: string[] }

/**
 * `--help` among a verb's options: box.ts prints the verb's help (lib/cli/help.ts) for this
 * very table, and exits 0 — nothing else of the verb runs.
 */
export class HelpRequested extends Error {
  constructor(readonly verb: string, readonly options: OptionTable) { super(`box ${verb} --help`); }
}

/** Parse `args` as `[OPTIONS] POSITIONAL [REST...]`; with `interspersed`, options may follow positionals (box rm ID -f). */
export function parseCommand(verb: string, args: string[], options: OptionTable, interspersed = false): Parsed {
  let head = args, tail: string[] = [];
  if (!interspersed) {
    const split = firstPositional(args, options);
    head = args.slice(0, split);
    tail = args.slice(split);
  }
  // Docker's boolean flags also take `--flag=true|false` (`--proc-view=false`); parseArgs only
  // knows `--flag`: an explicit value is taken out here and set after the parse (it wins over a plain `--flag`)
  const explicit: Record<string, boolean> = {};
  head = head.filter((a, i) => {
    const m = /^--([\w-]+)=(true|false)$/.exec(a);
    if (!m || options[m[1]]?.type !== 'boolean' || head.slice(0, i).includes('--')) return true;
    explicit[m[1]] = m[2] === 'true';
    return false;
  });
  const joined = joinValues(head, options);
  // a real --help, not the value of a flag (joinValues made those --flag=--help); not after --
  const dashes = joined.indexOf('--');
  if (!('help' in options) && joined.slice(0, dashes < 0 ? joined.length : dashes).includes('--help')) throw new HelpRequested(verb, options);
  try {
    const r = parseArgs({ args: joined, options, allowPositionals: true, strict: true });
    return { values: { ...(r.values as Record<string, any>), ...explicit }, positionals: [...r.positionals, ...tail] };
  } catch (e: any) {
    throw new FlagError(`box ${verb}: ${flagError(e)}`);
  }
}

/**
 * `--memory-swap -1` → `--memory-swap=-1`, `-m -1` → `-m-1`: a flag that takes a value takes
 * the next argument whatever it looks like, as Docker's flag parser does; parseArgs would
 * call "-1" ambiguous (another option, or a value?) and refuse it.
 */
export function joinValues(args: string[], options: OptionTable): string[] {
  const takesValue = (letter: string) => Object.values(options).some((o) => o.short === letter && o.type === 'string');
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i], next = args[i + 1];
    if (a === '--') { out.push(...args.slice(i)); break; }
    if (next?.startsWith('-') && a.startsWith('--') && !a.includes('=') && options[a.slice(2)]?.type === 'string') {
      out.push(`${a}=${next}`); i++;
    } else if (next?.startsWith('-') && /^-[^-]/.test(a) && [...a.slice(1)].findIndex(takesValue) === a.length - 2) {
      out.push(a + next); i++; // the cluster's value-taking letter is its last one: the value is the next argument
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Index of the first argument that is not an option or an option's value. */
function firstPositional(args: string[], options: OptionTable): number {
  const takesValue = (name: string) => {
    if (name.startsWith('--')) return options[name.slice(2)]?.type === 'string';
    const short = Object.values(options).find((o) => o.short === name.slice(1, 2));
    return short?.type === 'string';
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return i; // parseArgs drops the '--' itself
    if (!a.startsWith('-') || a === '-') return i;
    if (a.startsWith('--')) {
      if (!a.includes('=') && takesValue(a)) i++;
    } else {
      // a cluster like -it or -e FOO or -eFOO: the first letter that takes a value eats the rest or the next arg
      for (let j = 1; j < a.length; j++) {
        if (takesValue('-' + a[j])) { if (j === a.length - 1) i++; break; }
      }
    }
  }
  return args.length;
}

function flagError(e: any): string {
  const m = String(e.message);
  let r: RegExpMatchArray | null;
  if ((r = m.match(/Unknown option '([^']+)'/))) return `unknown flag: ${r[1]}`;
  if ((r = m.match(/Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/))) return `flag needs an argument: ${r[1]}`;
  if ((r = m.match(/Option '(?:-\w, )?(--[\w-]+)[^']*' does not take an argument/))) return `flag does not take a value: ${r[1]}`;
  return m.split('\n')[0];
}
