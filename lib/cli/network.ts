// box network ls|create|rm|inspect|prune: box's bridge networks (lib/net/store.ts) with Docker's
// output and words. The default network "bridge" is listed as Docker lists its own: it is made
// (record and bridge link, as dockerd makes docker0 when it starts) by the first command that
// needs it. Docker's "host" and "none" are modes of `--network`, not records: not listed.
import * as crypto from 'node:crypto';
import { parseCommand, HelpRequested } from '../options/flags';
import { BoxError, UsageError } from '../libc/errors';
import { createNetwork, defaultNetwork, getNetwork, listNetworks, removeNetwork, DEFAULT_NETWORK } from '../net/store';
import { endpoints } from '../net/ipam';
import { load } from '../state/store';
import type { Network } from '../net/types';
import { tabwrite, parseFormat, inspectOne, PARSE_STATUS, formatList, isCustom, goTime } from './format';
import { TYPE } from './gofmt';
import type { Template } from './template';
import { confirm } from './confirm';

export function network(args: string[]): number {
  const [sub, ...rest] = args;
  switch (sub) {
    case undefined: case '--help': throw new HelpRequested('network', {});
    case 'create': return create(rest);
    case 'ls': case 'list': return ls(rest);
    case 'rm': case 'remove': return rm(rest);
    case 'inspect': return inspect(rest);
    case 'prune': return prune(rest);
    default: throw new BoxError(`box network: unknown command "${sub}" (create, inspect, ls, prune, rm)`, 1);
  }
}

/** "bridge" is always there for a Docker user: made on first mention. */
const resolve = (ref: string): Network => (ref === DEFAULT_NETWORK ? defaultNetwork() : getNetwork(ref));

function create(args: string[]): number {
  const { values: v, positionals } = parseCommand('network create', args, {
    driver: { type: 'string', short: 'd' }, subnet: { type: 'string' }, gateway: { type: 'string' }, label: { type: 'string', multiple: true },
  }, true);
  if (positionals.length !== 1) throw new UsageError(`box network create: requires exactly 1 argument`);
  if (v.driver !== undefined && v.driver !== 'bridge') throw new BoxError(`box network create: plugin "${v.driver}" not found (box has the bridge driver only)`);
  let net: Network;
  try {
    net = createNetwork({ name: positionals[0], subnet: v.subnet, gateway: v.gateway, labels: labels(v.label ?? []) });
  } catch (e: any) {
    if (e instanceof BoxError) e.message = `box network create: ${e.message}`; // the same error object: its class, code and status stay
    throw e;
  }
  process.stdout.write(`${net.id}\n`);
  return 0;
}

/** --label KEY=VALUE (KEY alone: an empty value, as Docker). Not options/run-extra's parseLabels: it would load run's whole option table. */
function labels(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    const key = i < 0 ? l : l.slice(0, i);
    if (!key) throw new BoxError(`box network create: invalid label "${l}": empty key`);
    out[key] = i < 0 ? '' : l.slice(i + 1);
  }
  return out;
}

const HEADER = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };

/** --filter KEY=VALUE, Docker's keys: name (a substring), id (a prefix), driver, label (KEY or KEY=VALUE), type (builtin, custom), scope. Several values of one key: any; several keys: all. */
function filterOf(list: string[]): (n: Network) => boolean {
  const by = new Map<string, string[]>();
  for (const f of list) {
    const i = f.indexOf('=');
    if (i <= 0) throw new BoxError(`box network ls: bad format of filter (expected name=value): ${f}`);
    const k = f.slice(0, i).toLowerCase();
    if (!['name', 'id', 'driver', 'label', 'type', 'scope'].includes(k)) throw new BoxError(`box network ls: invalid filter '${k}'`);
    by.set(k, [...(by.get(k) ?? []), f.slice(i + 1)]);
  }
  const test: Record<string, (n: Network, v: string) => boolean> = {
    name: (n, v) => n.name.includes(v), id: (n, v) => n.id.startsWith(v), driver: (n, v) => n.driver === v, scope: (_n, v) => v === 'local',
    label: (n, v) => { const [k, ...rest] = v.split('='); const have = n.labels?.[k]; return have !== undefined && (!rest.length || have === rest.join('=')); },
    type: (n, v) => (v === 'builtin' ? n.name === DEFAULT_NETWORK : v === 'custom' ? n.name !== DEFAULT_NETWORK : false),
  };
  return (n) => [...by].every(([k, vs]) => vs.some((v) => test[k](n, v)));
}

function ls(args: string[]): number {
  const { values: v, positionals } = parseCommand('network ls', args, {
    quiet: { type: 'boolean', short: 'q' }, 'no-trunc': { type: 'boolean' }, format: { type: 'string' }, filter: { type: 'string', short: 'f', multiple: true },
  }, true);
  if (positionals.length) throw new UsageError(`box network ls: accepts no arguments (got "${positionals[0]}")`);
  const keep = filterOf(v.filter ?? []);
  defaultNetwork();
  const nets = listNetworks().filter(keep);
  const id = (n: Network) => (v['no-trunc'] ? n.id : n.id.slice(0, 12));
  if (v.quiet) { process.stdout.write(nets.map((n) => `${id(n)}\n`).join('')); return 0; }
  // what `{{.Field}}` reads: Docker's networkContext
  const context = (n: Network) => ({
    [TYPE]: '*formatter.networkContext', ID: id(n), Name: n.name, Driver: n.driver, Scope: 'local', IPv6: 'false', Internal: 'false',
    Labels: Object.entries(n.labels ?? {}).map(([k, x]) => `${k}=${x}`).join(','), CreatedAt: goTime(n.created),
  });
  if (v.format === 'json') { process.stdout.write(nets.map((n) => { const { [TYPE]: _, ...c } = context(n); return JSON.stringify(c) + '\n'; }).join('')); return 0; }
  if (isCustom(v.format)) { process.stdout.write(formatList('network ls', v.format, nets.map(context), HEADER)); return 0; }
  process.stdout.write(tabwrite(['NETWORK ID\tNAME\tDRIVER\tSCOPE', ...nets.map((n) => `${id(n)}\t${n.name}\t${n.driver}\tlocal`)].join('\n')) + '\n');
  return 0;
}

/** Docker prints each network as it was named, and goes on past a failure (exit 1 at the end). */
function rm(args: string[]): number {
  const { values: v, positionals } = parseCommand('network rm', args, { force: { type: 'boolean', short: 'f' } }, true);
  if (!positionals.length) throw new UsageError('box network rm: requires at least 1 argument');
  let status = 0;
  for (const ref of positionals) {
    try {
      removeNetwork(ref);
      process.stdout.write(`${ref}\n`);
    } catch (e: any) {
      if (v.force && e?.code === 'not-found') continue;
      process.stderr.write(`box network rm: ${e.message}\n`);
      status = 1;
    }
  }
  return status;
}

/** Every user network no container is attached to (Docker's words); the default one stays. */
function prune(args: string[]): number {
  const { values: v, positionals } = parseCommand('network prune', args, { force: { type: 'boolean', short: 'f' } }, true);
  if (positionals.length) throw new UsageError(`box network prune: accepts no arguments (got "${positionals[0]}")`);
  if (!v.force && !confirm('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ')) return 0;
  const gone: string[] = [];
  for (const n of listNetworks()) {
    if (n.name === DEFAULT_NETWORK || endpoints(n).length) continue;
    try { removeNetwork(n.id); gone.push(n.name); } catch { /* attached meanwhile, or removed by another */ }
  }
  if (gone.length) process.stdout.write(`Deleted Networks:\n${gone.map((x) => `${x}\n`).join('')}`);
  return 0;
}

/** Docker's NetworkResource for one of box's networks. */
export function toDocker(n: Network) {
  const prefix = n.subnet.split('/')[1];
  const containers: Record<string, object> = {};
  for (const e of endpoints(n)) {
    const name = load(e.containerId)?.name;
    containers[e.containerId] = {
      Name: name ?? '',
      // Docker's endpoint id is its own 64 hex digits; box keeps none: one derived from the pair, stable
      EndpointID: crypto.createHash('sha256').update(`${n.id}/${e.containerId}`).digest('hex'),
      MacAddress: e.mac, IPv4Address: `${e.address}/${prefix}`, IPv6Address: '',
    };
  }
  return {
    Name: n.name, Id: n.id, Created: n.created, Scope: 'local', Driver: 'bridge', EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
    Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: containers,
    Options: { 'com.docker.network.bridge.name': n.bridge, ...(n.name === DEFAULT_NETWORK ? { 'com.docker.network.bridge.default_bridge': 'true' } : {}) },
    Labels: n.labels ?? {},
  };
}

/** Maps where Docker has maps (a template prints them as map[…]). */
const asGo = (d: ReturnType<typeof toDocker>) => ({
  ...d, Containers: new Map(Object.entries(d.Containers)), Options: new Map(Object.entries(d.Options)), Labels: new Map(Object.entries(d.Labels)),
});

function inspect(args: string[]): number {
  const { values: v, positionals } = parseCommand('network inspect', args, { format: { type: 'string', short: 'f' } }, true);
  if (!positionals.length) throw new UsageError('box network inspect: requires at least 1 argument');
  const compact = v.format === 'json';
  let tmpl: Template | undefined;
  if (v.format && !compact) {
    try { tmpl = parseFormat('network inspect', v.format, PARSE_STATUS); } catch (e: any) { process.stderr.write(`${e.message}\n`); return e.status; }
  }
  const out: object[] = [];
  let text = '';
  let status = 0;
  for (const ref of positionals) {
    try {
      const d = toDocker(resolve(ref));
      if (tmpl) text += inspectOne('network inspect', tmpl, asGo(d), d) + '\n';
      else out.push(d);
    } catch (e: any) {
      process.stderr.write(`box network inspect: ${e.message}\n`);
      status = 1;
    }
  }
  process.stdout.write(tmpl ? text || '\n' : JSON.stringify(out, null, compact ? undefined : 4) + '\n');
  return status;
}
