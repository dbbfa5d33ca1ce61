// More of `docker run`'s flags: labels, ulimits, /dev/shm's size, devices, oom_score_adj,
// swappiness, --cidfile, the log driver and --mount. Parsed into optional ContainerSpec fields
// (older records have none); Docker's words in every refusal.
import * as fs from 'node:fs';
import { OptionTable } from './flags';
import { BoxError } from '../libc/errors';
import { parseBytes } from './resources';
import { parseUlimits } from './ulimits';
import { parseDevices } from './devices';
import { parseMount } from './mount-flag';
import type { ContainerSpec, LogConfig, Volume, Tmpfs } from './types';

export const RUN_EXTRA_OPTIONS: OptionTable = {
  label: { type: 'string', short: 'l', multiple: true },
  'label-file': { type: 'string', multiple: true },
  ulimit: { type: 'string', multiple: true },
  'shm-size': { type: 'string' },
  device: { type: 'string', multiple: true },
  'oom-score-adj': { type: 'string' },
  'memory-swappiness': { type: 'string' },
  cidfile: { type: 'string' },
  'log-driver': { type: 'string' },
  'log-opt': { type: 'string', multiple: true },
  mount: { type: 'string', multiple: true },
};

type Extra = Pick<ContainerSpec, 'labels' | 'ulimits' | 'shmSize' | 'devices' | 'oomScoreAdj' | 'log'>;

/** The spec fields of these flags (undefined when not given), --mount's entries, swappiness and the cidfile. */
export function parseRunExtra(v: Record<string, any>): { spec: Extra; volumes: Volume[]; tmpfs: Tmpfs[]; memorySwappiness?: number; cidfile?: string } {
  const spec: Extra = {};
  const labels = parseLabels(v['label-file'] ?? [], v.label ?? []);
  if (labels) spec.labels = labels;
  const ulimits = parseUlimits(v.ulimit ?? []);
  if (ulimits) spec.ulimits = ulimits;
  if (v['shm-size'] !== undefined) {
    const n = parseBytes('--shm-size', v['shm-size']);
    if (n <= 0) throw new BoxError(`box run: invalid --shm-size "${v['shm-size']}": must be greater than 0`);
    spec.shmSize = n;
  }
  if (v.device?.length) spec.devices = v.device.flatMap((d: string) => parseDevices(d));
  if (v['oom-score-adj'] !== undefined) {
    const s = v['oom-score-adj'];
    const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
    if (!(n >= -1000 && n <= 1000)) throw new BoxError(`box run: Invalid value ${s}, range for oom score adj is [-1000, 1000]`);
    spec.oomScoreAdj = n;
  }
  let memorySwappiness: number | undefined;
  if (v['memory-swappiness'] !== undefined) {
    const s = v['memory-swappiness'];
    const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
    if (n !== -1 && !(n >= 0 && n <= 100)) throw new BoxError(`box run: invalid value: ${s}. Valid memory swappiness range is 0-100`);
    if (n !== -1) memorySwappiness = n; // -1: Docker's "unset"
  }
  const log = parseLog(v['log-driver'], v['log-opt'] ?? []);
  if (log) spec.log = log;
  const volumes: Volume[] = [], tmpfs: Tmpfs[] = [];
  for (const m of v.mount ?? []) {
    const r = parseMount(m);
    if (r.volume) volumes.push(r.volume);
    if (r.tmpfs) tmpfs.push(r.tmpfs);
  }
  if (v.cidfile === '') throw new BoxError('box run: invalid --cidfile "": empty path');
  return { spec, volumes, tmpfs, memorySwappiness, cidfile: v.cidfile };
}

/** --label-file lines first, then -l (a later key wins); "KEY" alone is KEY="" (Docker). */
export function parseLabels(files: string[], labels: string[]): Record<string, string> | undefined {
  const lines: string[] = [];
  for (const f of files) {
    let text: string;
    try { text = fs.readFileSync(f, 'utf8'); } catch (e: any) { throw new BoxError(`box run: --label-file ${f}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`); }
    lines.push(...text.split('\n').map((l) => l.replace(/\r$/, '').trim()).filter((l) => l && !l.startsWith('#')));
  }
  lines.push(...labels);
  if (!lines.length) return undefined;
  const out: Record<string, string> = {};
  for (const l of lines) {
    const eq = l.indexOf('=');
    const key = eq < 0 ? l : l.slice(0, eq);
    if (!key) throw new BoxError(`box run: invalid label "${l}": empty name`);
    out[key] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}

const LOG_OPTS: Record<string, string[]> = { 'json-file': ['max-size', 'max-file', 'compress', 'labels', 'env', 'tag'], none: [] };

export function parseLog(driver: string | undefined, opts: string[]): LogConfig | undefined {
  if (driver === undefined && !opts.length) return undefined;
  const type = driver ?? 'json-file';
  if (!(type in LOG_OPTS)) throw new BoxError(`box run: logging driver "${type}" is not supported (json-file, none)`);
  const o: Record<string, string> = {};
  for (const s of opts) {
    const eq = s.indexOf('=');
    if (eq < 1) throw new BoxError(`box run: invalid key value pair format in logging opts: ${s}`);
    const k = s.slice(0, eq);
    if (!LOG_OPTS[type].includes(k)) throw new BoxError(`box run: unknown log opt '${k}' for ${type} log driver`);
    if (k === 'compress' && s.slice(eq + 1) !== 'false') throw new BoxError(`box run: log opt compress: only false is supported`);
    o[k] = s.slice(eq + 1);
  }
  const log: LogConfig = { type: type as LogConfig['type'], opts: o };
  if (o['max-size'] !== undefined && o['max-size'] !== '-1') {
    const n = humanSize(o['max-size']);
    if (!(n > 0)) throw new BoxError(`box run: invalid --log-opt max-size "${o['max-size']}"`);
    log.maxSize = n;
  }
  if (o['max-file'] !== undefined) {
    const n = /^\d+$/.test(o['max-file']) ? Number(o['max-file']) : NaN;
    if (!(n >= 1)) throw new BoxError('box run: max-file cannot be less than 1');
    if (n > 1 && log.maxSize === undefined) throw new BoxError('box run: max-file can only be set when max-size is set');
    log.maxFile = n;
  }
  return log;
}

/** go-units FromHumanSize: decimal units (json-file's max-size=10m is 10,000,000 bytes). */
function humanSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(s.trim());
  if (!m) return NaN;
  const k = m[3] && /^i/i.test(m[3]) ? 1024 : 1000;
  return Math.floor(Number(m[1]) * k ** ' kmgtp'.indexOf(m[2].toLowerCase() || ' '));
}

/** Docker's Config.Labels: the image's, then the container's over them; none at all: no field. */
export function mergeLabels(image: Record<string, string> | null | undefined, own: Record<string, string> | undefined): { labels?: Record<string, string> } {
  if (!own && !image) return {};
  return { labels: { ...(image ?? {}), ...(own ?? {}) } };
}
