// box ps [-a] [-q] [--no-trunc] [-n N] [-l] [-f KEY=VALUE...] [--format json|table|TEMPLATE]: Docker's columns, and
// Docker's fields for a Go template (docker/cli formatter/container.go).
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { list, isRunning, ContainerState } from '../container/query';
import { findImage } from '../image/store';
import { table } from '../util/table';
import { TYPE, quote } from './gofmt';
import { formatList, isCustom, goTime, humanSize } from './format';
import { diskUsage } from '../util/du';
import { parseFilters, matches, wantsAll } from './ps-filter';

/** Docker's column names for a "table" template. */
const HEADER = {
  ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE', Labels: 'LABELS', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS', Platform: 'PLATFORM', HealthStatus: 'HEALTH STATUS', IPAddresses: 'IP ADDRESSES',
};

export function ps(args: string[]): number {
  const { values: v } = parseCommand('ps', args, {
    all: { type: 'boolean', short: 'a' }, quiet: { type: 'boolean', short: 'q' },
    'no-trunc': { type: 'boolean' }, format: { type: 'string' }, filter: { type: 'string', short: 'f', multiple: true }, last: { type: 'string', short: 'n' }, latest: { type: 'boolean', short: 'l' },
  }, true);
  const last = v.latest ? 1 : v.last !== undefined ? Number(v.last) : undefined;
  if (last !== undefined && !(last >= 0)) throw new BoxError(`box ps: invalid --last "${v.last}"`);
  const filters = parseFilters(v.filter);
  let rows = list({ all: v.all || last !== undefined || wantsAll(filters) });
  if (filters.size) rows = rows.filter((s) => matches(filters, s, state(s)));
  if (last !== undefined) rows = rows.slice(0, last);
  const id = (s: ContainerState) => (v['no-trunc'] ? s.id : s.id.slice(0, 12));
  if (v.quiet) { process.stdout.write(rows.map((s) => id(s) + '\n').join('')); return 0; }
  if (v.format === 'json') {
    process.stdout.write(rows.map((s) => JSON.stringify({ ID: id(s), Image: s.image, Command: s.spec.command.join(' '), CreatedAt: s.created, State: s.status, Status: status(s), Names: s.name }) + '\n').join(''));
    return 0;
  }
  if (isCustom(v.format)) {
    process.stdout.write(formatList('ps', v.format, rows.map((s) => context(s, !v['no-trunc'])), HEADER));
    return 0;
  }
  process.stdout.write(table([['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
    ...rows.map((s) => [id(s), s.image, JSON.stringify(trunc(s.spec.command.join(' '), v['no-trunc'])), ago(s.created) + ' ago', status(s), '', s.name])]));
  return 0;
}

/** What `{{.Field}}` reads in `ps --format`: Docker's ContainerContext, keys in its JSON order. */
export function context(s: ContainerState, truncate: boolean) {
  const mounts = s.spec.volumes.map((m) => (truncate ? ellipsis(m.source, 15) : m.source)).join(',');
  return {
    [TYPE]: '*formatter.ContainerContext',
    Command: quote(truncate ? ellipsis(s.spec.command.join(' '), 20) : s.spec.command.join(' ')),
    CreatedAt: goTime(s.created),
    HealthStatus: '',
    ID: truncate ? s.id.slice(0, 12) : s.id,
    Image: s.image,
    Labels: Object.entries(s.spec.labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','),
    LocalVolumes: '0',
    Mounts: mounts,
    Names: s.name,
    Networks: 'none', // a box container has its own network namespace with loopback only: Docker's --network none
    Ports: '',
    RunningFor: ago(s.created) + ' ago',
    // the writable layer, measured only when a template asks for it, as Docker's ps --size
    get Size() {
      const rw = s.rootfs?.upper ? diskUsage(s.rootfs.upper) : 0;
      const img = findImage(s.image);
      return img ? `${humanSize(rw)} (virtual ${humanSize(rw + img.size)})` : humanSize(rw);
    },
    State: state(s),
    Status: status(s),
    Label: (name: string) => s.spec.labels?.[name] ?? '',
  };
}

/** Docker's State word: paused and running apart; a "running" whose owner died is over. */
const state = (s: ContainerState) => (isRunning(s) ? (s.paused ? 'paused' : 'running') : s.status === 'running' ? 'exited' : s.status);

const trunc = (s: string, no: boolean) => (no ? s : ellipsis(s, 20));
const ellipsis = (s: string, n: number) => ([...s].length <= n ? s : [...s].slice(0, n - 1).join('') + '…');

function status(s: ContainerState): string {
  if (s.status === 'running') return `Up ${ago(s.startedAt ?? s.created)}${s.paused ? ' (Paused)' : ''}`;
  if (s.status === 'created') return 'Created';
  if (s.status === 'exited') return `Exited (${s.exitCode ?? 0}) ${ago(s.finishedAt ?? s.created)} ago`;
  return s.status[0].toUpperCase() + s.status.slice(1);
}

/** go-units HumanDuration, as Docker's CREATED and STATUS columns say it. */
export function ago(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  const m = Math.floor(s / 60), h = Math.floor(s / 3600 + 0.5);
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${Math.floor(s)} second${Math.floor(s) === 1 ? '' : 's'}`;
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 14) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 60) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(s / 3600 / 24 / 365)} years`;
}
