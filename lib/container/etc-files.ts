// The container's /etc/hostname, /etc/hosts and /etc/resolv.conf, as Docker writes them: files
// of box's own in the container's directory (the image and the writable layer stay as they
// were), bound over the container's paths by the mount plan (lib/mount/plan.ts). The text is
// made by pure functions; networking (another issue) only has to pass the container's address.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerSpec } from '../options/types';
import { ExtraHost, ETC_FILES, isIP } from '../options/etc';
import { containerDir } from '../state/paths';

/** Docker's defaults (libnetwork/etchosts): loopback names, then the IPv6 ones. */
const DEFAULT_HOSTS: [string, string][] = [
  ['127.0.0.1', 'localhost'],
  ['::1', 'localhost ip6-localhost ip6-loopback'],
  ['fe00::0', 'ip6-localnet'],
  ['ff00::0', 'ip6-mcastprefix'],
  ['ff02::1', 'ip6-allnodes'],
  ['ff02::2', 'ip6-allrouters'],
];

export function hostnameText(hostname: string): string {
  return `${hostname}\n`;
}

/**
 * /etc/hosts: the defaults, --add-host entries in order, and the container's own name on its
 * address. Without an address (box's containers have loopback only, as Docker's
 * `--network none`) there is no such line, as in Docker.
 */
export function hostsText(hostname: string, extra: ExtraHost[] = [], address?: string): string {
  const lines = [...DEFAULT_HOSTS, ...extra.map((h): [string, string] => [h.ip, h.host])];
  if (address) lines.push([address, hostname]);
  return lines.map(([ip, names]) => `${ip}\t${names}\n`).join('');
}

export interface DnsOverrides { dns?: string[]; dnsSearch?: string[]; dnsOptions?: string[] }

/** Docker's fallback when no usable nameserver is left (libnetwork/resolvconf). */
export const DEFAULT_DNS = ['8.8.8.8', '8.8.4.4'];

const isLocalhost = (ip: string) => {
  if (isIP(ip) === 4) return ip.startsWith('127.');
  const parts = ip.split(':'); // ::1 however written (0:0:0:0:0:0:0:1)
  return /^0*1$/.test(parts[parts.length - 1]) && parts.slice(0, -1).every((p) => /^0*$/.test(p));
};

/**
 * /etc/resolv.conf from the host's text, filtered as Docker does: nameservers on loopback are
 * dropped (they would be the container's own loopback), and with none left Google's two are
 * used. --dns, --dns-search and --dns-option each replace the host's lines of their kind
 * ("--dns-search ." means no search line at all).
 */
export function resolvConfText(host: string, o: DnsOverrides = {}): string {
  const servers: string[] = [], search: string[] = [], options: string[] = [];
  for (const raw of host.split('\n')) {
    const [key, ...rest] = raw.replace(/[#;].*/, '').trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) servers.push(rest[0].replace(/%.*$/, ''));
    else if (key === 'search' || key === 'domain') search.splice(0, search.length, ...rest.filter(Boolean)); // the last one wins (resolv.conf(5))
    else if (key === 'options') options.push(...rest.filter(Boolean));
  }
  let ns = o.dns?.length ? o.dns : servers.filter((s) => isIP(s) && !isLocalhost(s));
  if (!ns.length) ns = DEFAULT_DNS;
  const sr = o.dnsSearch?.length ? o.dnsSearch.filter((d) => d !== '.') : search;
  const op = o.dnsOptions?.length ? o.dnsOptions : options;
  return [
    ...ns.map((s) => `nameserver ${s}\n`),
    ...(sr.length ? [`search ${sr.join(' ')}\n`] : []),
    ...(op.length ? [`options ${op.join(' ')}\n`] : []),
  ].join('');
}

const MAX_RESOLV = 64 << 10;

/**
 * The host's resolver file. systemd-resolved's stub (only 127.0.0.53) is useless in another
 * network namespace: then its list of real servers, /run/systemd/resolve/resolv.conf, as Docker.
 */
export function hostResolvConf(read: (file: string) => string | undefined = readSmall): string {
  const text = read('/etc/resolv.conf') ?? '';
  const servers = [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]);
  if (servers.length && servers.every((s) => s === '127.0.0.53')) return read('/run/systemd/resolve/resolv.conf') ?? text;
  return text;
}

function readSmall(file: string): string | undefined {
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      if (!fs.fstatSync(fd).isFile()) return undefined;
      const buf = Buffer.alloc(MAX_RESOLV);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * Writes the three files into `dir` (the container's directory, just made: nobody reads them
 * before the container starts, so each is written in place, new — O_EXCL — and whole, no
 * temporary and rename): 0644, owned by box (root). Only box writes them on the host side; the
 * container gets them as binds (read-only with --read-only, as Docker).
 */
export function writeEtcFiles(dir: string, spec: ContainerSpec, address?: string) {
  const text: Record<(typeof ETC_FILES)[number], string> = {
    hostname: hostnameText(spec.hostname),
    hosts: hostsText(spec.hostname, spec.extraHosts, address),
    'resolv.conf': resolvConfText(hostResolvConf(), spec),
  };
  for (const name of ETC_FILES) {
    const file = path.join(dir, name);
    const fd = fs.openSync(file, 'wx', 0o644);
    try {
      fs.writeFileSync(fd, text[name]);
      fs.fchmodSync(fd, 0o644); // whatever box's umask was
    } finally { fs.closeSync(fd); }
  }
}

/** The directory holding a container's files, or undefined for a record made before box wrote them. */
export function etcFilesDir(id: string): string | undefined {
  const dir = containerDir(id);
  return ETC_FILES.every((f) => fs.existsSync(path.join(dir, f))) ? dir : undefined;
}
