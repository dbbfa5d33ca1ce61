// box as an OCI runtime: runc's command line, which podman (conmon), dockerd and containerd's
// runc shim speak. Selected by box.ts when the first argument is one of runc's global flags
// (engines always pass --root or --log first), when called as `box oci …`, or under a name
// ending in "runc". Global flags come before the verb. A failure is one message: a JSON (or
// text) line in --log, as runc writes it — the engines read that file — and on stderr; exit 1.
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { OciStore, DEFAULT_ROOT, stateJson } from './state';
import { OciError } from './errors';

interface Globals { root: string; log?: string; logFormat: 'text' | 'json'; debug: boolean }

const GLOBAL_FLAGS = {
  root: { type: 'string' }, log: { type: 'string' }, 'log-format': { type: 'string' }, debug: { type: 'boolean' },
  'systemd-cgroup': { type: 'boolean' }, rootless: { type: 'string' }, criu: { type: 'string' },
} as const;

/** The arguments that select OCI mode in box.ts. */
export function isOciInvocation(argv: string[], script: string): boolean {
  return /runc$/.test(script.replace(/.*\//, '')) || /^--(root|log|log-format|debug|systemd-cgroup|rootless|criu)(=|$)/.test(argv[0] ?? '');
}

const USAGE = `Usage: box [global options] COMMAND [options] <container-id>   (box as an OCI runtime, runc's interface)

Commands: create start state kill delete exec ps pause resume update list features spec
Global options: --root DIR (default ${DEFAULT_ROOT}) --log FILE --log-format text|json --debug
`;

export async function oci(argv: string[]): Promise<number> {
  const verbAt = verbIndex(argv);
  let g: Globals = { root: DEFAULT_ROOT, logFormat: 'text', debug: false };
  try {
    g = globals(argv.slice(0, verbAt));
    const [verb, ...args] = argv.slice(verbAt);
    const out = await run(new OciStore(g.root), verb, args, (w) => log(g, 'warning', w));
    if (typeof out === 'string') process.stdout.write(out);
    return typeof out === 'number' ? out : 0;
  } catch (e: any) {
    const msg = String(e?.message ?? e).replace(/^box( \w+)?: /, '');
    log(g, 'error', msg);
    process.stderr.write(`box: ${msg}\n`);
    if (g.debug && !(e instanceof OciError)) process.stderr.write(`${e?.stack}\n`);
    return 1;
  }
}

/** The first argument that is not a global flag or a global flag's value. */
function verbIndex(argv: string[]): number {
  let i = 0;
  while (i < argv.length && argv[i].startsWith('-')) {
    const name = argv[i].replace(/^--?/, '').split('=')[0];
    const spec = (GLOBAL_FLAGS as any)[name];
    i += spec?.type === 'string' && !argv[i].includes('=') ? 2 : 1;
  }
  return i;
}

function globals(args: string[]): Globals {
  let v: any;
  try {
    v = parseArgs({ args, options: GLOBAL_FLAGS, strict: true, allowPositionals: false }).values;
  } catch (e: any) {
    throw new OciError(e.message);
  }
  if (v['systemd-cgroup']) throw new OciError('--systemd-cgroup: box has no systemd cgroup driver; configure the engine for cgroupfs');
  if (v.rootless && v.rootless !== 'false') throw new OciError(`--rootless ${v.rootless}: box runs containers as root only`);
  const fmt = v['log-format'] ?? 'text';
  if (fmt !== 'text' && fmt !== 'json') throw new OciError(`--log-format ${fmt}: must be text or json`);
  return { root: v.root || DEFAULT_ROOT, log: v.log, logFormat: fmt, debug: !!v.debug };
}

function log(g: Globals, level: 'error' | 'warning' | 'debug', msg: string) {
  if (level === 'warning' && !g.log) { process.stderr.write(`box: warning: ${msg}\n`); return; }
  if (!g.log) return;
  const time = new Date().toISOString();
  const line = g.logFormat === 'json' ? JSON.stringify({ level, msg, time }) : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
  try { fs.appendFileSync(g.log, line + '\n'); } catch { /* the log's directory went away */ }
}

function opts(args: string[], options: Record<string, any>, verb: string) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (e: any) {
    throw new OciError(`${verb}: ${e.message}`);
  }
}

/**
 * runc's `exec ID COMMAND…`: options end at the container id, and the command keeps its own
 * (`exec ID sh -c …`), so only what comes before the first positional is parsed.
 */
function optsUntilId(args: string[], options: Record<string, any>, verb: string) {
  let i = 0;
  while (i < args.length && args[i].startsWith('-') && args[i] !== '--') {
    const name = args[i].replace(/^--?/, '').split('=')[0];
    const spec = options[name] ?? Object.values(options).find((o: any) => o.short === name);
    i += spec?.type === 'string' && !args[i].includes('=') ? 2 : 1;
  }
  if (args[i] === '--') i++;
  const { values } = opts(args.slice(0, i).filter((a) => a !== '--'), options, verb);
  return { values, positionals: args.slice(i) };
}

function idOf(positionals: string[], verb: string): string {
  if (!positionals[0]) throw new OciError(`${verb}: a container id is required`);
  return positionals[0];
}

async function run(store: OciStore, verb: string | undefined, args: string[], warn: (w: string) => void): Promise<string | number | void> {
  switch (verb) {
    case 'create': case 'run': {
      const { values: v, positionals } = opts(args, {
        bundle: { type: 'string', short: 'b' }, 'pid-file': { type: 'string' }, 'console-socket': { type: 'string' },
        'no-pivot': { type: 'boolean' }, 'no-new-keyring': { type: 'boolean' }, 'preserve-fds': { type: 'string' }, detach: { type: 'boolean', short: 'd' },
      }, verb);
      if (verb === 'run') throw new OciError('run: use create then start (box keeps no process per container to wait on)');
      if (v['preserve-fds'] && v['preserve-fds'] !== '0') throw new OciError(`--preserve-fds ${v['preserve-fds']}: passing extra fds is not supported`);
      const { ociCreate } = await import('./create');
      return ociCreate(store, idOf(positionals, verb), {
        bundle: (v.bundle as string) ?? '', pidFile: v['pid-file'] as string, consoleSocket: v['console-socket'] as string,
        noPivot: !!v['no-pivot'], noNewKeyring: !!v['no-new-keyring'],
      }, warn);
    }
    case 'start': return (await import('./start')).ociStart(store, idOf(opts(args, {}, verb).positionals, verb), warn);
    case 'state': {
      const id = idOf(opts(args, {}, verb).positionals, verb);
      return JSON.stringify(stateJson(store, store.load(id)), null, 2) + '\n';
    }
    case 'kill': {
      const { values: v, positionals } = opts(args, { all: { type: 'boolean', short: 'a' } }, verb);
      return (await import('./kill')).ociKill(store, idOf(positionals, verb), positionals[1], !!v.all);
    }
    case 'delete': {
      const { values: v, positionals } = opts(args, { force: { type: 'boolean', short: 'f' } }, verb);
      return (await import('./delete')).ociDelete(store, idOf(positionals, verb), !!v.force, warn);
    }
    case 'exec': {
      const { values: v, positionals } = optsUntilId(args, {
        process: { type: 'string', short: 'p' }, tty: { type: 'boolean', short: 't' }, 'console-socket': { type: 'string' },
        detach: { type: 'boolean', short: 'd' }, 'pid-file': { type: 'string' }, cwd: { type: 'string' },
        env: { type: 'string', short: 'e', multiple: true }, user: { type: 'string', short: 'u' }, 'preserve-fds': { type: 'string' },
      }, verb);
      if (v['preserve-fds'] && v['preserve-fds'] !== '0') throw new OciError(`--preserve-fds ${v['preserve-fds']}: passing extra fds is not supported`);
      const [id, ...cmd] = positionals;
      return (await import('./exec')).ociExec(store, idOf([id], verb), {
        processFile: v.process as string, args: cmd, cwd: v.cwd as string, env: (v.env as string[]) ?? [], user: v.user as string,
        tty: !!v.tty, consoleSocket: v['console-socket'] as string, detach: !!v.detach, pidFile: v['pid-file'] as string,
      });
    }
    case 'ps': {
      const { values: v, positionals } = opts(args, { format: { type: 'string', short: 'f' } }, verb);
      return (await import('./ps')).ociPs(store, idOf(positionals, verb), (v.format as string) ?? 'table', positionals.slice(1));
    }
    case 'pause': case 'resume':
      return (await import('./pause')).ociPause(store, idOf(opts(args, {}, verb).positionals, verb), verb === 'pause');
    case 'update': {
      const { values: v, positionals } = opts(args, { resources: { type: 'string', short: 'r' } }, verb);
      return (await import('./update')).ociUpdate(store, idOf(positionals, verb), v.resources as string, warn);
    }
    case 'list': {
      const { values: v } = opts(args, { format: { type: 'string', short: 'f' }, quiet: { type: 'boolean', short: 'q' } }, verb);
      return (await import('./list')).ociList(store, (v.format as string) ?? 'table', !!v.quiet);
    }
    case 'features': return (await import('./features')).ociFeatures();
    case 'spec': {
      const { values: v } = opts(args, { bundle: { type: 'string', short: 'b' }, rootless: { type: 'boolean' } }, verb);
      return (await import('./features')).ociSpec((v.bundle as string) ?? process.cwd());
    }
    case undefined: case 'help': case '--help': return USAGE;
    default: throw new OciError(`'${verb}' is not an OCI runtime command (box oci --help)`);
  }
}
