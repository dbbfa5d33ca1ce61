// `box ps --filter KEY=VALUE` as Docker's daemon reads it (daemon/list.go): values of one key
// are alternatives (ORed), different keys must all hold (ANDed); `label` is the exception, as
// in Docker: every label filter must hold. `name` is a regular expression, matched against the
// name with or without Docker's leading "/"; `id` is a prefix of the full id.
import { BoxError } from '../libc/errors';
import type { ContainerState } from '../container/query';
import { findImage } from '../image/store';

const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const KEYS = ['status', 'name', 'id', 'label', 'ancestor', 'exited'];

export type Filters = Map<string, string[]>;

/** `--filter` values → key → values; Docker's one-line errors for a malformed or unknown filter. */
export function parseFilters(args: string[] = []): Filters {
  const f: Filters = new Map();
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq < 1) throw new BoxError(`box ps: bad format of filter (expected name=value): ${a}`);
    const key = a.slice(0, eq).trim().toLowerCase(), value = a.slice(eq + 1);
    if (!KEYS.includes(key)) throw new BoxError(`box ps: invalid filter '${key}'`);
    if (key === 'status' && !STATES.includes(value)) throw new BoxError(`box ps: invalid filter 'status=${value}'`);
    if (key === 'exited' && !/^-?\d+$/.test(value)) throw new BoxError(`box ps: invalid filter 'exited=${value}'`);
    if (key === 'name') {
      try { new RegExp(value); } catch { throw new BoxError(`box ps: invalid filter 'name=${value}': not a regular expression`); }
    }
    f.set(key, [...(f.get(key) ?? []), value]);
  }
  return f;
}

/** Docker shows every container, not just running ones, when a status is asked for. */
export const wantsAll = (f: Filters) => f.has('status');

/** Does the container `s` (its state as ps shows it: `state`) pass every filter? */
export function matches(f: Filters, s: ContainerState, state: string): boolean {
  const any = (key: string, test: (v: string) => boolean) => !f.has(key) || f.get(key)!.some(test);
  const labels = s.spec.labels ?? {};
  return any('status', (v) => v === state)
    && any('name', (v) => new RegExp(v).test(s.name) || new RegExp(v).test(`/${s.name}`))
    && any('id', (v) => s.id.startsWith(v))
    && (f.get('label') ?? []).every((v) => {
      const eq = v.indexOf('=');
      return eq < 0 ? Object.hasOwn(labels, v) : labels[v.slice(0, eq)] === v.slice(eq + 1);
    })
    && any('ancestor', (v) => ancestor(v, s.image))
    && any('exited', (v) => state === 'exited' && (s.exitCode ?? 0) === Number(v));
}

/** The container's image is `ref`: the same words, the same tag (":latest" implied), or the same image of the store. */
function ancestor(ref: string, image: string): boolean {
  const tag = (r: string) => (/:[^/]+$/.test(r) || r.includes('@') ? r : `${r}:latest`);
  if (ref === image || tag(ref) === tag(image)) return true;
  const a = findImage(ref), b = findImage(image);
  return !!a && !!b && a.id === b.id;
}
