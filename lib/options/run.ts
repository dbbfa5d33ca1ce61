// `box run` flags → one validated ContainerSpec. Pure: no libc, no filesystem writes
// (reads only --env-file), so it is unit-tested without root.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCommand, OptionTable } from './flags';
import { resolveCaps } from './capabilities';
import { ContainerSpec, Volume, Tmpfs } from './types';
import { BoxError, UsageError } from '../libc/errors';
import { RESOURCE_OPTIONS, parseResources, hostCpus } from './resources';
import { parseSecurityOpts } from './security';
import { SeccompChoice } from '../seccomp';
import { RESTART_OPTIONS, parseRestart } from './restart';
import { RUN_EXTRA_OPTIONS, parseRunExtra } from './run-extra';
import { PROC_VIEW_OPTIONS, parseProcView } from './proc-view';
import { validVolumeName, volumeData, anonymousName } from '../state/volumes';
import { ETC_OPTIONS, parseEtcOptions } from './etc';

export const RUN_OPTIONS: OptionTable = {
  detach: { type: 'boolean', short: 'd' },
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  rm: { type: 'boolean' },
  name: { type: 'string' },
  hostname: { type: 'string', short: 'h' },
  env: { type: 'string', short: 'e', multiple: true },
  'env-file': { type: 'string', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  init: { type: 'boolean' },
  'read-only': { type: 'boolean' },
  volume: { type: 'string', short: 'v', multiple: true },
  tmpfs: { type: 'string', multiple: true },
  'cap-add': { type: 'string', multiple: true },
  'cap-drop': { type: 'string', multiple: true },
  privileged: { type: 'boolean' },
  'security-opt': { type: 'string', multiple: true },
  'no-pivot': { type: 'boolean' },
  'stop-signal': { type: 'string' },
  entrypoint: { type: 'string' },
  'stop-timeout': { type: 'string' },
  ...RESOURCE_OPTIONS,
  ...RESTART_OPTIONS,
  ...RUN_EXTRA_OPTIONS,
  ...PROC_VIEW_OPTIONS,
  ...ETC_OPTIONS,
};

export interface RunRequest {
  spec: Omit<ContainerSpec, 'id' | 'command' | 'env' | 'workdir' | 'user'> & { command: string[]; env: string[]; workdir?: string; user?: string };
  detach: boolean;
  entrypoint?: string;
  seccomp: SeccompChoice;   // compiled at create, against the capabilities the container ends up with
  cidfile?: string;         // --cidfile: the client writes the id there (never the supervisor)
}

export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const HOST_RE = /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/;

/** Parse argv after `run`. The image is not resolved here; the command may still be empty (image default). */
export function parseRun(args: string[], env: NodeJS.ProcessEnv = process.env, host = hostCpus()): RunRequest {
  const { values: v, positionals } = parseCommand('run', args, RUN_OPTIONS);
  if (positionals.length === 0) throw new UsageError('box run: requires at least 1 argument: IMAGE');
  const [image, ...command] = positionals;
  if (v.name !== undefined && !NAME_RE.test(v.name)) throw new BoxError(`box run: invalid container name "${v.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (v.hostname !== undefined && !HOST_RE.test(v.hostname)) throw new BoxError(`box run: invalid hostname "${v.hostname}"`);
  const stopSignal = (v['stop-signal'] ?? 'SIGTERM').toUpperCase().replace(/^(?!SIG)(?=\D)/, 'SIG');
  if (!/^\d+$/.test(stopSignal) && !(stopSignal in require('node:os').constants.signals)) throw new BoxError(`box run: invalid --stop-signal "${v['stop-signal']}"`);
  if (v['stop-timeout'] !== undefined && !/^-?\d+$/.test(v['stop-timeout'])) throw new BoxError(`box run: invalid --stop-timeout "${v['stop-timeout']}": not an integer`);
  let capabilities: string[];
  try {
    capabilities = resolveCaps(v['cap-add'] ?? [], v['cap-drop'] ?? [], !!v.privileged);
  } catch (e: any) {
    throw new BoxError(`box run: --cap-add/--cap-drop: ${e.message}`);
  }
  const security = parseSecurityOpts(v['security-opt'] ?? []);
  const envs = [...(v['env-file'] ?? []).flatMap((f: string) => readEnvFile(f, env)), ...(v.env ?? []).map((e: string) => envEntry(e, env))]
    .filter((e): e is string => e !== null);
  if (v.workdir !== undefined && !v.workdir.startsWith('/')) throw new BoxError(`box run: --workdir "${v.workdir}": the working directory must be an absolute path`);
  const extra = parseRunExtra(v);
  const resources = parseResources(v, host.ncpu, host);
  if (extra.memorySwappiness !== undefined) resources.memorySwappiness = extra.memorySwappiness;
  return {
    ...(extra.cidfile !== undefined ? { cidfile: extra.cidfile } : {}),
    detach: !!v.detach,
    entrypoint: v.entrypoint,
    seccomp: security.seccomp,
    spec: {
      name: v.name ?? '',
      image,
      command,
      env: envs,
      workdir: v.workdir,
      user: v.user,
      hostname: v.hostname ?? '',
      tty: !!v.tty,
      stdin: !!v.interactive,
      rm: !!v.rm,
      init: !!v.init,
      readOnly: !!v['read-only'],
      noPivot: !!v['no-pivot'],
      privileged: !!v.privileged,
      capabilities,
      seccomp: security.seccomp.kind === 'file' ? security.seccomp.path : security.seccomp.kind,
      noNewPrivileges: security.noNewPrivileges,
      volumes: [...(v.volume ?? []).map((s: string) => parseVolume(s)), ...extra.volumes],
      tmpfs: [...(v.tmpfs ?? []).map(parseTmpfs), ...extra.tmpfs],
      resources,
      stopSignal,
      stopTimeout: v['stop-timeout'] !== undefined ? Number(v['stop-timeout']) : 10,
      restart: parseRestart(v.restart, !!v.rm),
      ...extra.spec,
      ...parseEtcOptions(v),
      ...parseProcView(v),
    },
  };
}

/** -e KEY=VALUE sets; -e KEY copies the host's value or, if unset, leaves it out (Docker). */
function envEntry(e: string, env: NodeJS.ProcessEnv): string | null {
  const eq = e.indexOf('=');
  const key = eq < 0 ? e : e.slice(0, eq);
  if (!key) throw new BoxError(`box run: --env "${e}": variable name is empty`);
  if (eq >= 0) return e;
  return env[key] !== undefined ? `${key}=${env[key]}` : null;
}

export function readEnvFile(file: string, env: NodeJS.ProcessEnv): (string | null)[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e: any) {
    throw new BoxError(`box run: --env-file ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  return text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() && !l.trimStart().startsWith('#')).map((l) => envEntry(l.trimStart(), env));
}

/**
 * -v HOST:CONTAINER[:ro|rw], -v NAME:CONTAINER[:…] (a named volume), -v /CONTAINER (an
 * anonymous one: Docker's 64 hex digits for a name, unless `anonymous` gives the name again).
 */
export function parseVolume(s: string, anonymous?: string): Volume {
  if (/^\/[^:]*$/.test(s)) {
    const target = path.posix.normalize(s);
    if (target === '/') throw new BoxError(`box run: invalid volume "${s}": cannot mount over /`);
    const name = anonymous ?? anonymousName();
    if (!/^[0-9a-f]{64}$/.test(name)) throw new BoxError(`box run: invalid volume "${s}": bad anonymous volume name`);
    return { source: volumeData(name), target, readonly: false, name, anonymous: true };
  }
  const parts = s.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) throw new BoxError(`box run: invalid volume "${s}": expected HOST:CONTAINER[:ro|rw]`);
  const [source, target, mode = 'rw'] = parts;
  if (!source.startsWith('/') && !validVolumeName(source)) throw new BoxError(`box run: invalid volume "${s}": "${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  if (!target.startsWith('/')) throw new BoxError(`box run: invalid volume "${s}": the container path must be absolute`);
  if (path.posix.normalize(target) === '/') throw new BoxError(`box run: invalid volume "${s}": cannot mount over /`);
  if (mode !== 'ro' && mode !== 'rw') throw new BoxError(`box run: invalid volume "${s}": unknown mode "${mode}"`);
  if (!source.startsWith('/')) return { source: volumeData(source), target: path.posix.normalize(target), readonly: mode === 'ro', name: source };
  return { source: path.resolve(source), target: path.posix.normalize(target), readonly: mode === 'ro' };
}

export function parseTmpfs(s: string): Tmpfs {
  const [target, ...opts] = s.split(':');
  if (!target.startsWith('/')) throw new BoxError(`box run: invalid tmpfs "${s}": the path must be absolute`);
  const options = opts.join(':');
  for (const o of options ? options.split(',') : []) {
    if (!/^(size=\d+[kmg%]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+|nr_inodes=\d+[kmg]?|ro|rw|noexec|exec|nosuid|suid|nodev|dev)$/.test(o)) {
      throw new BoxError(`box run: invalid tmpfs "${s}": unknown option "${o}"`);
    }
  }
  return { target: path.posix.normalize(target), options };
}
