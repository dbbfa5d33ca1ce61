// --restart no|on-failure[:N]|always|unless-stopped: the policy the supervisor carries out
// when a detached container's PID 1 exits (lib/supervisor/restart.ts). Parsed and checked as
// Docker's CLI (opts.ParseRestartPolicy, the --rm conflict) and daemon
// (container.ValidateRestartPolicy) do, with their words.
import { OptionTable } from './flags';
import { BoxError } from '../libc/errors';

export type RestartName = 'no' | 'always' | 'on-failure' | 'unless-stopped';
export interface RestartPolicy { name: RestartName; maximumRetryCount: number }

export const RESTART_OPTIONS: OptionTable = { restart: { type: 'string' } };
const NAMES: RestartName[] = ['no', 'always', 'on-failure', 'unless-stopped'];

/** The --restart value (undefined: none given, Docker's "no"); `rm`: --rm was given too. */
export function parseRestart(value: string | undefined, rm: boolean, verb = 'run'): RestartPolicy | undefined {
  if (value === undefined || value === '') return undefined;
  const i = value.indexOf(':');
  const name = i < 0 ? value : value.slice(0, i);
  const count = i < 0 ? '' : value.slice(i + 1);
  let max = 0;
  if (count !== '') {
    if (!/^[+-]?\d+$/.test(count)) throw new BoxError(`box ${verb}: invalid restart policy format: maximum retry count must be an integer`);
    max = Number(count);
  }
  // Docker's CLI refuses the --rm conflict before its daemon looks at the name
  if (rm && name !== 'no') throw new BoxError(`box ${verb}: Conflicting options: --restart and --rm`);
  if (!NAMES.includes(name as RestartName)) {
    throw new BoxError(`box ${verb}: invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (name === 'on-failure' && max < 0) throw new BoxError(`box ${verb}: invalid restart policy: maximum retry count cannot be negative`);
  if (name !== 'on-failure' && max !== 0) {
    throw new BoxError(`box ${verb}: invalid restart policy: maximum retry count can only be used with 'on-failure'${max < 0 ? ' and cannot be negative' : ''}`);
  }
  return { name: name as RestartName, maximumRetryCount: max };
}

/** A policy under which an exit may be followed by a restart. */
export function restarts(p: RestartPolicy | undefined): boolean {
  return !!p && p.name !== 'no';
}
