// A bundle's config.json, checked and turned into what box's stage carries out: a
// ContainerSpec (the process), the OCI extras (namespaces, rlimits, capability sets, hooks),
// the cgroup limits and path, and the seccomp filter. Every field is either honoured or
// refused by name: an engine that asked for something must never get less without knowing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerSpec, ProcessExtras, Hook } from '../options/types';
import { Resources } from '../options/resources';
import { CAPS } from '../options/capabilities';
import { CLONE } from '../libc/constants';
import { seccompFilter, SeccompFilter } from '../seccomp';
import { checkProfile, ProfileError } from '../seccomp/profile';
import { ociResources } from './resources';
import { DEFAULT_DEVICE_RULES } from '../cgroup/files';
import { OciError } from './errors';

export interface OciHooks { createRuntime: Hook[]; createContainer: Hook[]; startContainer: Hook[]; prestart: Hook[]; poststart: Hook[]; poststop: Hook[] }

export interface Bundle {
  config: any;
  bundle: string;           // absolute
  rootfs: string;           // absolute, on the host
  spec: ContainerSpec;
  process: ProcessExtras;
  resources: Resources;
  cgroupPath: string;
  unshare: number;          // CLONE_NEW* of the namespaces the stage makes (pid is box's)
  newPidNs: boolean;
  pidNsPath?: string;       // join an existing pid namespace
  join: { type: string; path: string }[];
  newCgroupNs: boolean;
  hooks: OciHooks;
  seccomp?: SeccompFilter;
  domainname?: string;
  annotations: Record<string, string>;
  warnings: string[];
}

const NS_FLAGS: Record<string, number> = { mount: CLONE.NEWNS, uts: CLONE.NEWUTS, ipc: CLONE.NEWIPC, network: CLONE.NEWNET };

export function loadBundle(bundleDir: string, id: string, opts: { noPivot?: boolean; defaultCgroupParent?: string } = {}): Bundle {
  const bundle = path.resolve(bundleDir);
  let config: any;
  try {
    config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  } catch (e: any) {
    throw new OciError(e.code === 'ENOENT' ? `bundle ${bundle}: no config.json` : `bundle ${bundle}: config.json: ${e.message}`);
  }
  return translate(config, bundle, id, opts);
}

/** Pure apart from the seccomp compiler's cache: unit-tested with the engines' real configs. */
export function translate(config: any, bundle: string, id: string, opts: { noPivot?: boolean; defaultCgroupParent?: string } = {}): Bundle {
  const fail = (field: string, why: string): never => { throw new OciError(`config.json: ${field}: ${why}`); };
  const warnings: string[] = [];
  if (typeof config !== 'object' || config === null) fail('(top)', 'not a JSON object');
  if (typeof config.ociVersion !== 'string' || !/^1\./.test(config.ociVersion)) fail('ociVersion', `unsupported version ${JSON.stringify(config.ociVersion)}`);
  if (typeof config.root?.path !== 'string' || !config.root.path) fail('root.path', 'missing');
  const rootfs = path.resolve(bundle, config.root.path);
  if (!fs.existsSync(rootfs) || !fs.statSync(rootfs).isDirectory()) fail('root.path', `${rootfs} is not a directory`);

  const p = config.process;
  if (!p) fail('process', 'missing (box runs one process per container)');
  if (!Array.isArray(p.args) || !p.args.length || !p.args.every((a: any) => typeof a === 'string')) fail('process.args', 'must be a non-empty list of strings');
  if (typeof p.cwd !== 'string' || !p.cwd.startsWith('/')) fail('process.cwd', `must be an absolute path, not ${JSON.stringify(p.cwd)}`);
  const env: string[] = p.env ?? [];
  if (!Array.isArray(env) || !env.every((e) => typeof e === 'string' && e.includes('='))) fail('process.env', 'must be a list of KEY=VALUE strings');
  const u = p.user ?? {};
  const uid = u.uid ?? 0, gid = u.gid ?? 0;
  if (!Number.isInteger(uid) || uid < 0 || !Number.isInteger(gid) || gid < 0) fail('process.user', 'uid and gid must be non-negative integers');
  const groups: number[] = u.additionalGids ?? [];
  if (!Array.isArray(groups) || !groups.every((g) => Number.isInteger(g) && g >= 0)) fail('process.user.additionalGids', 'must be a list of gids');
  const processExtras = processFields(p, fail, warnings);

  const linux = config.linux ?? {};
  for (const k of ['uidMappings', 'gidMappings']) if (linux[k]?.length) fail(`linux.${k}`, 'user namespaces are not supported by box');
  for (const k of ['intelRdt', 'personality', 'memoryPolicy', 'netDevices']) if (linux[k] !== undefined) fail(`linux.${k}`, 'not supported by box');
  if (linux.mountLabel) selinuxOnly('linux.mountLabel', fail, warnings);

  // Namespaces: new (no path) or joined (path). pid is made by box itself at the spawn.
  let unshare = 0, newPidNs = false, newCgroupNs = false, pidNsPath: string | undefined;
  const join: { type: string; path: string }[] = [];
  const seen = new Set<string>();
  for (const [i, ns] of (linux.namespaces ?? []).entries()) {
    const field = `linux.namespaces[${i}]`;
    if (seen.has(ns?.type)) fail(field, `the ${ns.type} namespace is listed twice`);
    seen.add(ns?.type);
    if (ns.path !== undefined && (typeof ns.path !== 'string' || !ns.path.startsWith('/'))) fail(`${field}.path`, 'must be an absolute path');
    switch (ns?.type) {
      case 'pid': if (ns.path) pidNsPath = ns.path; else newPidNs = true; break;
      case 'mount': if (ns.path) fail(field, 'joining a mount namespace by path is not supported'); unshare |= CLONE.NEWNS; break;
      case 'cgroup': if (ns.path) join.push({ type: 'cgroup', path: ns.path }); else newCgroupNs = true; break;
      case 'network': case 'ipc': case 'uts':
        if (ns.path) join.push({ type: ns.type, path: ns.path }); else unshare |= NS_FLAGS[ns.type];
        break;
      case 'user': fail(field, 'user namespaces are not supported by box'); break;
      case 'time': fail(field, 'time namespaces are not supported by box'); break;
      default: fail(`${field}.type`, `unknown namespace type ${JSON.stringify(ns?.type)}`);
    }
  }
  if (!(unshare & CLONE.NEWNS)) fail('linux.namespaces', 'a new mount namespace is required (box pivots the root in it)');
  const newUts = !!(unshare & CLONE.NEWUTS);
  if (config.hostname && !newUts) fail('hostname', 'needs a new uts namespace');
  if (config.domainname && !newUts) fail('domainname', 'needs a new uts namespace');
  if (linux.sysctl && typeof linux.sysctl !== 'object') fail('linux.sysctl', 'must be an object');

  const resources = ociResources(linux.resources ?? {});
  if (resources.devices) {
    // runc allows the nodes it creates (linux.devices), and then appends its default list —
    // null, zero, full, random, urandom, tty, console, ptmx, the ptys, tun, mknod of anything —
    // which engines count on: podman sends only "deny all", yet its containers open /dev/null
    for (const d of linux.devices ?? []) if (d?.type === 'c' || d?.type === 'b') resources.devices.push(`${d.type} ${d.major}:${d.minor} rwm`);
    resources.devices = [...new Set([...resources.devices, ...DEFAULT_DEVICE_RULES])];
  }

  const cgroupPath = cgroupPathOf(linux.cgroupsPath, id, opts.defaultCgroupParent ?? 'box-oci', fail);
  const hooks = hooksOf(config.hooks, fail);
  // startContainer hooks run inside while the init is still box's Node stage, whose other
  // threads keep the host's root and namespaces (DESIGN.md "Threads"); non-dumpable keeps them
  // out of reach of everything but CAP_SYS_PTRACE, which would open /proc/1/task/*/root
  const sets = processExtras.capabilities;
  if (hooks.startContainer.length && Object.values(sets).some((s) => s.includes('CAP_SYS_PTRACE'))) {
    fail('hooks.startContainer', 'not with CAP_SYS_PTRACE in process.capabilities: the hook would run beside box\'s init stage, whose threads hold host state');
  }
  const caps = processExtras.capabilities.bounding.map((c) => c.replace(/^CAP_/, ''));
  const spec: ContainerSpec = {
    id, name: id, image: rootfs, command: p.args, env, workdir: p.cwd,
    user: { uid, gid, groups },
    hostname: config.hostname ?? '', tty: !!p.terminal, stdin: false, rm: false, init: false,
    readOnly: !!config.root.readonly, noPivot: !!opts.noPivot, privileged: false, capabilities: caps,
    seccomp: linux.seccomp ? 'config.json' : 'unconfined', noNewPrivileges: !!p.noNewPrivileges,
    volumes: [], tmpfs: [], resources, stopSignal: 'SIGTERM', stopTimeout: 10,
  };
  const seccomp = linux.seccomp ? compileSeccomp(linux.seccomp, caps, spec.noNewPrivileges) : undefined;
  const annotations = config.annotations ?? {};
  if (typeof annotations !== 'object') fail('annotations', 'must be an object of strings');
  return {
    config, bundle, rootfs, spec, process: processExtras, resources, cgroupPath, unshare, newPidNs, pidNsPath, join, newCgroupNs,
    hooks, seccomp, domainname: config.domainname, annotations, warnings,
  };
}

export function processFields(p: any, fail: (f: string, w: string) => never, warnings: string[]): ProcessExtras {
  const caps = p.capabilities ?? {};
  const set = (k: string): string[] => {
    const v = caps[k] ?? [];
    if (!Array.isArray(v)) fail(`process.capabilities.${k}`, 'must be a list');
    return v.map((c: any, i: number) => {
      const n = String(c).toUpperCase().replace(/^CAP_/, '');
      if (!CAPS.includes(n)) fail(`process.capabilities.${k}[${i}]`, `unknown capability ${JSON.stringify(c)}`);
      return `CAP_${n}`;
    });
  };
  const rlimits = (p.rlimits ?? []).map((r: any, i: number) => {
    if (typeof r?.type !== 'string' || !/^RLIMIT_[A-Z]+$/.test(r.type)) fail(`process.rlimits[${i}].type`, `not an RLIMIT_ name: ${JSON.stringify(r?.type)}`);
    if (!Number.isInteger(r.soft) || !Number.isInteger(r.hard) || r.soft < 0 || r.hard < 0) fail(`process.rlimits[${i}]`, 'soft and hard must be non-negative integers');
    if (r.soft > r.hard) fail(`process.rlimits[${i}]`, `soft ${r.soft} is above hard ${r.hard}`);
    return { type: r.type, soft: r.soft, hard: r.hard };
  });
  if (p.apparmorProfile) macOnly('process.apparmorProfile', '/sys/kernel/security/apparmor', 'AppArmor', fail, warnings);
  if (p.selinuxLabel) selinuxOnly('process.selinuxLabel', fail, warnings);
  for (const k of ['ioPriority', 'scheduler', 'execCPUAffinity']) if (p[k] !== undefined) fail(`process.${k}`, 'not supported by box');
  if (p.user?.umask !== undefined && !(Number.isInteger(p.user.umask) && p.user.umask >= 0 && p.user.umask <= 0o777)) fail('process.user.umask', 'must be 0..0777');
  if (p.oomScoreAdj !== undefined && !(Number.isInteger(p.oomScoreAdj) && p.oomScoreAdj >= -1000 && p.oomScoreAdj <= 1000)) fail('process.oomScoreAdj', 'must be -1000..1000');
  return {
    rlimits, umask: p.user?.umask, oomScoreAdj: p.oomScoreAdj,
    capabilities: { bounding: set('bounding'), effective: set('effective'), permitted: set('permitted'), inheritable: set('inheritable'), ambient: set('ambient') },
    noNewKeyring: false,
  };
}

/** A label for a security module this host does not run can only be ignored (with a warning); one it runs, box cannot apply: refused. */
function macOnly(field: string, marker: string, name: string, fail: (f: string, w: string) => never, warnings: string[]) {
  if (fs.existsSync(marker)) fail(field, `${name} is enabled on this host and box cannot apply ${name} profiles`);
  warnings.push(`${field} ignored: this host has no ${name}`);
}
const selinuxOnly = (field: string, fail: (f: string, w: string) => never, warnings: string[]) => macOnly(field, '/sys/fs/selinux/enforce', 'SELinux', fail, warnings);

/** Absolute (/docker/<id>) as engines send it; `slice:prefix:name` is the systemd driver's, which box does not have. */
function cgroupPathOf(v: any, id: string, parent: string, fail: (f: string, w: string) => never): string {
  if (v === undefined || v === '') return `/${parent}/${id}`;
  if (typeof v !== 'string') fail('linux.cgroupsPath', 'must be a string');
  if (/^[^/]*:[^/]*:/.test(v)) fail('linux.cgroupsPath', `"${v}" is a systemd slice path: box has no systemd cgroup driver (use the cgroupfs driver)`);
  if (v.split('/').some((c: string) => c === '..' || c === '.')) fail('linux.cgroupsPath', `"${v}" must not contain . or ..`);
  // runc reads a relative path against its own cgroup; box never works relative to its caller's cgroup
  return v.startsWith('/') ? v : `/${parent}/${v}`;
}

function hooksOf(h: any = {}, fail: (f: string, w: string) => never): OciHooks {
  const list = (k: string): Hook[] => (h[k] ?? []).map((x: any, i: number) => {
    const f = `hooks.${k}[${i}]`;
    if (typeof x?.path !== 'string' || !x.path.startsWith('/')) fail(`${f}.path`, 'must be an absolute path');
    if (x.timeout !== undefined && !(Number.isInteger(x.timeout) && x.timeout > 0)) fail(`${f}.timeout`, 'must be a positive number of seconds');
    return { path: x.path, args: x.args, env: x.env, timeout: x.timeout };
  });
  return {
    createRuntime: list('createRuntime'), createContainer: list('createContainer'), startContainer: list('startContainer'),
    prestart: list('prestart'), poststart: list('poststart'), poststop: list('poststop'),
  };
}

function compileSeccomp(profile: any, caps: string[], noNewPrivileges: boolean): SeccompFilter | undefined {
  try {
    checkProfile(profile);
    if (profile.listenerPath || (profile.syscalls ?? []).some((s: any) => s.action === 'SCMP_ACT_NOTIFY')) {
      throw new ProfileError('SCMP_ACT_NOTIFY (a seccomp agent) is not supported in OCI mode');
    }
    return seccompFilter({ kind: 'file', path: 'config.json', profile }, caps, false, { noNewPrivileges, init: false, denyWins: true });
  } catch (e: any) {
    if (e instanceof ProfileError) throw new OciError(`config.json: linux.seccomp: ${e.message}`);
    throw e;
  }
}
