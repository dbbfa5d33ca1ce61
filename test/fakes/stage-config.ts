// Stage configurations for the order tests: what box sends a stage, with only the fields a test
// cares about changed.
import { StageConfig, ContainerSpec } from '../../lib/options/types';
import { DEFAULT_CAPS } from '../../lib/options/capabilities';

export function spec(over: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    id: 'c1', name: 'n', image: 'busybox', command: ['/bin/sh', '-c', 'true'], env: ['PATH=/bin'], workdir: '/', user: { uid: 0, gid: 0, groups: [] },
    hostname: 'h', tty: false, stdin: false, rm: true, init: false, readOnly: false, noPivot: false, privileged: false,
    capabilities: DEFAULT_CAPS, seccomp: 'builtin', noNewPrivileges: false, volumes: [], tmpfs: [], resources: {}, stopSignal: 'SIGTERM', stopTimeout: 10, ...over,
  };
}

export const CGROUP_PROCS = ['/sys/fs/cgroup/cpu/box/c1/cgroup.procs', '/sys/fs/cgroup/memory/box/c1/cgroup.procs'];

/** A StageConfig on an overlay rootfs at /c/merged, joining two cgroups, with a (dummy) seccomp filter. */
export function stageConfig(over: Partial<ContainerSpec> = {}, seccomp = true): StageConfig {
  return {
    spec: spec(over), cgroupProcs: CGROUP_PROCS, cgroupns: true,
    rootfs: { lower: ['/img'], upper: '/c/upper', work: '/c/work', merged: '/c/merged' },
    ...(seccomp ? { seccomp: { program: Buffer.alloc(8).toString('base64'), sha256: '', flags: 0 } } : {}),
  };
}
