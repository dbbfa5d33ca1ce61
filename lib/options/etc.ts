// Docker's flags for what the container sees of names and its kernel: --add-host, --dns,
// --dns-search, --dns-option (its /etc/hosts and /etc/resolv.conf, written by
// lib/container/etc-files.ts), --sysctl (namespaced ones only) and --group-add (resolved at
// create, in the image's /etc/group). Pure: validation only, Docker's words.
import { OptionTable } from './flags';

/**
 * node:net's isIP, loaded on first use: these flags are parsed in the client of every `box run`,
 * including the pooled run's small part, and loading Node's `net` costs it ~3–5 ms at start.
 */
export const isIP = (s: string): number => (require('node:net') as typeof import('node:net')).isIP(s);
import { BoxError } from '../libc/errors';

export const ETC_OPTIONS: OptionTable = {
  'add-host': { type: 'string', multiple: true },
  dns: { type: 'string', multiple: true },
  'dns-search': { type: 'string', multiple: true },
  'dns-option': { type: 'string', multiple: true },
  sysctl: { type: 'string', multiple: true },
  'group-add': { type: 'string', multiple: true },
};

/** The files box writes into the container's directory and binds over /etc/<name> (lib/container/etc-files.ts). */
export const ETC_FILES = ['hostname', 'hosts', 'resolv.conf'] as const;

export interface ExtraHost { host: string; ip: string }

export interface EtcFields {
  extraHosts?: ExtraHost[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  sysctls?: Record<string, string>;
  groupAdd?: string[];
}

const invalid = (flag: string, value: string, why: string): never => {
  throw new BoxError(`box run: invalid argument "${value}" for "--${flag}" flag: ${why}`);
};

const HOSTNAME_RE = /^[a-zA-Z0-9_]([a-zA-Z0-9_.-]{0,252})$/;

/** --add-host NAME:IP (or NAME=IP, an IPv6 address in brackets or not), Docker's opts.ValidateExtraHost. */
export function parseExtraHost(s: string): ExtraHost {
  const sep = s.search(/[=:]/);
  if (sep < 1) invalid('add-host', s, 'bad format for add-host');
  const host = s.slice(0, sep);
  let ip = s.slice(sep + 1);
  if (!HOSTNAME_RE.test(host)) invalid('add-host', s, `invalid hostname in add-host: "${host}"`);
  // box has no bridge, so no address of the host the container could reach: refused, not guessed
  if (ip === 'host-gateway') invalid('add-host', s, 'host-gateway needs a bridge network, and box has none yet');
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (!isIP(ip)) invalid('add-host', s, `invalid IP address in add-host: "${ip}"`);
  return { host, ip };
}

/** Docker's opts.ValidateSysctl: the IPC namespace's kernel.* entries, fs.mqueue.*, and net.* (own network namespace). */
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export function sysctlAllowed(key: string, ownNetns = true): boolean {
  if (!key || key.includes('/') || key.split('.').some((p) => !p || p === '..')) return false;
  return IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.') || (ownNetns && key.startsWith('net.'));
}

export function parseSysctls(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list) {
    const eq = s.indexOf('=');
    if (eq < 1) invalid('sysctl', s, `sysctl '${s}' is not allowed: expected KEY=VALUE`);
    const key = s.slice(0, eq).trim(), value = s.slice(eq + 1);
    if (!sysctlAllowed(key)) invalid('sysctl', s, `sysctl '${key}' is not allowed (only kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and net.*)`);
    if (value.includes('\n') || value.includes('\0')) invalid('sysctl', s, 'the value spans lines');
    out[key] = value;
  }
  return out;
}

function dnsServer(s: string): string {
  if (!isIP(s)) invalid('dns', s, `IP address is not correctly formatted: ${s}`);
  return s;
}

/** A search domain: Docker's opts.ValidateDNSSearch ("." alone means none). */
function dnsSearch(s: string): string {
  const d = s.replace(/\.$/, '');
  if (s !== '.' && (!d || d.length > 255 || !/^[a-zA-Z0-9_]([a-zA-Z0-9_.-]*)$/.test(d) || d.startsWith('-'))) invalid('dns-search', s, `${s} is not a valid domain`);
  return s;
}

function dnsOption(s: string): string {
  if (!s || /\s/.test(s)) invalid('dns-option', s, 'an option is one word (ndots:2, edns0, …)');
  return s;
}

/** --group-add: a group name (resolved at create, in the image's /etc/group) or a number. */
function groupAdd(s: string): string {
  if (!s || s.includes(':') || /[\s\0,]/.test(s) || (/^\d+$/.test(s) && Number(s) > 0xfffffffe)) invalid('group-add', s, 'not a group name or gid');
  return s;
}

/** The spec fields of these flags (only those given: a spec without them is an old record's). */
export function parseEtcOptions(v: Record<string, any>): EtcFields {
  const out: EtcFields = {};
  if (v['add-host']) out.extraHosts = v['add-host'].map(parseExtraHost);
  if (v.dns) out.dns = v.dns.map(dnsServer);
  if (v['dns-search']) out.dnsSearch = v['dns-search'].map(dnsSearch);
  if (v['dns-option']) out.dnsOptions = v['dns-option'].map(dnsOption);
  if (v.sysctl) out.sysctls = parseSysctls(v.sysctl);
  if (v['group-add']) out.groupAdd = v['group-add'].map(groupAdd);
  return out;
}

/**
 * The supervisor's check (lib/supervisor/run-request.ts): the fields as a client sent them,
 * parsed again from the flags they would come from; anything else is a bad request.
 */
export function checkEtcFields(s: any): boolean {
  const isList = (x: unknown) => x === undefined || (Array.isArray(x) && x.every((e) => typeof e === 'string'));
  if (!isList(s.dns) || !isList(s.dnsSearch) || !isList(s.dnsOptions) || !isList(s.groupAdd)) return false;
  if (s.extraHosts !== undefined && !(Array.isArray(s.extraHosts) && s.extraHosts.every((h: any) => typeof h?.host === 'string' && typeof h?.ip === 'string'))) return false;
  if (s.sysctls !== undefined && (typeof s.sysctls !== 'object' || s.sysctls === null || Array.isArray(s.sysctls) || !Object.values(s.sysctls).every((x) => typeof x === 'string'))) return false;
  try {
    const again = parseEtcOptions({
      'add-host': s.extraHosts?.map((h: ExtraHost) => `${h.host}=${h.ip}`),
      dns: s.dns, 'dns-search': s.dnsSearch, 'dns-option': s.dnsOptions, 'group-add': s.groupAdd,
      sysctl: s.sysctls && Object.entries(s.sysctls).map(([k, x]) => `${k}=${x}`),
    });
    return JSON.stringify(again.extraHosts) === JSON.stringify(s.extraHosts) && JSON.stringify(again.sysctls) === JSON.stringify(s.sysctls);
  } catch {
    return false;
  }
}
