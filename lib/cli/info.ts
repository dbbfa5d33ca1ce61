// box info [--format json|TEMPLATE]: what this host offers, probed now (not guessed from the distro's name).
import * as fs from 'node:fs';
import { discover, hasCgroupNamespace } from '../cgroup/discover';
import { overlaySupported } from '../image/overlay';
import { embedded } from '../embedded';
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { ACTIONS } from '../seccomp/profile';
import { seccompActionAvailable } from '../libc/seccomp';
import { sysinfoViewSupport } from '../seccomp/sysinfo-filter';
import { viewSupport } from '../procview/host';
import { runningSupervisor } from '../state/anchors';
import { peekDefaultNetwork, wouldBeDefault } from '../net/store';
import { NETWORKS, ROOT } from '../state/paths';
import { TYPE } from './gofmt';
import { TemplateExecError } from './template';
import { parseFormat, PARSE_STATUS } from './format';

const NAMESPACES = ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup', 'user', 'time'];

export function version(): number {
  process.stdout.write(`box version ${boxVersion()}\n`);
  return 0;
}

export function boxVersion(): string {
  return embedded()?.version ?? `${require('../../package.json').version}-dev`;
}

/** pivot_root needs the current root to be a real mount, not the initial ramfs. */
function pivotRootUsable(): boolean {
  const root = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
  return !!root && !/ - (rootfs|ramfs) /.test(root);
}

/** Filters need CONFIG_SECCOMP_FILTER; which return actions the kernel knows decides what a profile may use. */
function seccompSupport(): { enabled: boolean; actions: string[] } {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  if (!/^Seccomp:/m.test(status)) return { enabled: false, actions: [] };
  const actions = Object.entries(ACTIONS).filter(([name, value]) => name !== 'SCMP_ACT_KILL' && seccompActionAvailable(value)).map(([name]) => name.replace('SCMP_ACT_', '').toLowerCase());
  return { enabled: actions.includes('errno'), actions };
}

export function probe() {
  const cg = discover();
  const glibc = (process.report?.getReport() as any)?.header?.glibcVersionRuntime;
  return {
    version: boxVersion(),
    kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    koffi: `linux-${process.arch}-${glibc ? 'glibc' : 'musl'}`,
    namespaces: Object.fromEntries(NAMESPACES.map((n) => [n, fs.existsSync(`/proc/self/ns/${n}`)])),
    cgroup: {
      mode: cg.mode,
      namespace: hasCgroupNamespace(),
      v1: Object.fromEntries(cg.v1.map((h) => [h.controllers.join(','), h.mountpoint])),
      v2: cg.v2 ? { mountpoint: cg.v2.mountpoint, controllers: cg.v2.controllers } : null,
    },
    overlayfs: overlaySupported(),
    pivotRoot: pivotRootUsable(),
    seccomp: seccompSupport(),
    supervisor: runningSupervisor() ?? null, // this store's (BOX_ROOT), lib/supervisor/
    network: defaultNetworkInfo(),
  };
}

/**
 * The default network ("bridge"): its bridge and subnet if some run made it, else what it would
 * be if made now — read only, never made here (info changes nothing, and any user may run it).
 */
function defaultNetworkInfo(): { made: boolean | null; bridge: string; subnet: string | null } {
  if (!storeReadable()) return { made: null, ...wouldBeDefault(), subnet: null }; // the store is root's: whether it was made is not known here
  const n = peekDefaultNetwork();
  if (n) return { made: true, bridge: n.bridge, subnet: n.subnet };
  const w = wouldBeDefault();
  return { made: false, bridge: w.bridge, subnet: w.subnet ?? null };
}

/** Whether this user can tell if the default network was made: the networks directory (or, before any, the store) readable. */
function storeReadable(): boolean {
  for (const d of [NETWORKS, ROOT]) {
    try { fs.accessSync(d, fs.constants.R_OK | fs.constants.X_OK); return true; } catch (e: any) { if (e.code !== 'ENOENT') return false; }
  }
  return true; // no store at all: nothing made
}

/** The probe as Go data: objects keyed by names (namespaces, v1 hierarchies) are maps, the rest structs. */
function asGo(p: ReturnType<typeof probe>) {
  return {
    [TYPE]: 'info', ...p,
    namespaces: new Map(Object.entries(p.namespaces)),
    cgroup: { ...p.cgroup, v1: new Map(Object.entries(p.cgroup.v1)) },
  };
}

export function info(args: string[]): number {
  const { values } = parseCommand('info', args, { format: { type: 'string', short: 'f' } }, true);
  const p = probe();
  if (values.format === 'json') {
    process.stdout.write(JSON.stringify(p, null, 2) + '\n');
    return 0;
  }
  if (values.format) {
    // Docker's info --format: a template over the object `--format json` prints (64 when it does not parse)
    let tmpl;
    try { tmpl = parseFormat('info', values.format, PARSE_STATUS); } catch (e: any) { process.stderr.write(`${e.message}\n`); return e.status; }
    try {
      process.stdout.write(tmpl.execute(asGo(p)) + '\n');
    } catch (e) {
      if (!(e instanceof TemplateExecError)) throw e;
      process.stdout.write(e.partial + '\n'); // Go prints up to the failure, Docker then a newline
      throw new BoxError(`box info: ${e.message}`, 1);
    }
    return 0;
  }
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const lines = [
    `Box version:   ${p.version}`,
    `Kernel:        ${p.kernel}`,
    `Node:          ${p.node}`,
    `koffi:         ${p.koffi}`,
    `Namespaces:    ${Object.entries(p.namespaces).map(([n, ok]) => `${n}${ok ? '' : '(missing)'}`).join(' ')}`,
    `Cgroups:       ${p.cgroup.mode}${p.cgroup.namespace ? ', cgroup namespace' : ', no cgroup namespace'}`,
    ...Object.entries(p.cgroup.v1).map(([c, m]) => `  v1 ${c.padEnd(18)} ${m}`),
    ...(p.cgroup.v2 ? [`  v2 ${'(' + (p.cgroup.v2.controllers.join(',') || 'no controllers') + ')'} ${p.cgroup.v2.mountpoint}`] : []),
    `Overlayfs:     ${yes(p.overlayfs)}`,
    `pivot_root:    ${yes(p.pivotRoot)}${p.pivotRoot ? '' : ' (chroot fallback)'}`,
    `Supervisor:    ${p.supervisor ? `running (pid ${p.supervisor.pid}; detached containers, and box run on its warm pool)` : 'not running (the first run -d or create starts it)'}`,
    `Seccomp:       ${p.seccomp.enabled ? `yes (default profile: builtin, Docker's; actions: ${p.seccomp.actions.join(' ')})` : 'no (containers run without a syscall filter)'}`,
    ((v) => `sysinfo view:  ${v.ok ? 'yes' : 'no'} (${v.why})`)(sysinfoViewSupport()),
    ((v) => `/proc view:    ${v.ok ? 'yes' : 'no'} (${v.why})`)(viewSupport()),
    ((n) => `Network:       default bridge ${n.made ? `${n.bridge}, ${n.subnet}` : n.made === null ? `${n.bridge} (its subnet is in the store: root's)` : `not made yet, would be ${n.bridge}, ${n.subnet ?? 'no free subnet among Docker\'s pools'}`}`)(p.network),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
