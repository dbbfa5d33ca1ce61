// `features` (runtime-spec features.md): what this runtime implements, for engines that ask
// before they build a config; and `spec`: a default config.json to start a bundle from.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CAPS, DEFAULT_CAPS } from '../options/capabilities';
import { ACTIONS, FILTER_FLAGS } from '../seccomp/profile';
import { MASKED_PATHS, READONLY_PATHS } from '../mount/plan';
import { DEFAULT_PATH } from '../util/defaults';
import { OCI_VERSION } from './state';
import { OciError } from './errors';

export function ociFeatures(): string {
  return JSON.stringify({
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: ['async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'mand', 'noatime', 'nodev', 'nodiratime', 'noexec', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'private', 'rbind', 'relatime', 'remount', 'ro', 'rprivate', 'rro', 'rshared', 'rslave', 'runbindable', 'rw', 'shared', 'slave', 'strictatime', 'suid', 'sync', 'unbindable'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts'],
      capabilities: CAPS.map((c) => `CAP_${c}`),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: {
        enabled: true,
        actions: Object.keys(ACTIONS).filter((a) => a !== 'SCMP_ACT_NOTIFY'),
        operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
        archs: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
        knownFlags: Object.keys(FILTER_FLAGS),
        supportedFlags: Object.keys(FILTER_FLAGS),
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.opencontainers.runtime-spec.features.runtime': 'box' },
  }, null, 2) + '\n';
}

/** A default config.json in `dir` (runc spec's: a busybox-sized sandbox with Docker's default capabilities). */
export function ociSpec(dir: string) {
  const file = path.join(dir, 'config.json');
  if (fs.existsSync(file)) throw new OciError(`File ${file} exists. Remove it first`);
  const caps = DEFAULT_CAPS.map((c) => `CAP_${c}`);
  const nsd = ['nosuid', 'noexec', 'nodev'];
  const config = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true, user: { uid: 0, gid: 0 }, args: ['sh'], env: [`PATH=${DEFAULT_PATH}`, 'TERM=xterm'], cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }], noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'box',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...nsd, 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: nsd },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...nsd, 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...nsd, 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'].map((type) => ({ type })),
      maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS,
    },
  };
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o644 });
}
