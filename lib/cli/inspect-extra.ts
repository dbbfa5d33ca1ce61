// inspect's fields for lib/options/run-extra.ts's flags, in Docker's names and shapes
// (HostConfig.Ulimits, ShmSize, Devices, OomScoreAdj, MemorySwappiness, LogConfig; Mounts).
import type { ContainerSpec } from '../options/types';

export function runExtraHostConfig(spec: ContainerSpec) {
  return {
    Ulimits: spec.ulimits?.map((u) => ({ Name: u.name, Hard: u.hard, Soft: u.soft })) ?? null,
    ShmSize: spec.shmSize ?? 64 * 1024 * 1024,
    Devices: (spec.devices ?? []).map((d) => ({ PathOnHost: d.source, PathInContainer: d.target, CgroupPermissions: d.permissions })),
    OomScoreAdj: spec.oomScoreAdj ?? 0,
    MemorySwappiness: spec.resources.memorySwappiness ?? null,
    LogConfig: { Type: spec.log?.type ?? 'json-file', Config: spec.log?.opts ?? {} },
  };
}

/** Docker's Mounts: binds, volumes and tmpfs mounts of the container. */
export function mountsOf(spec: ContainerSpec) {
  return [
    ...spec.volumes.map((v) => (v.name !== undefined
      ? { Type: 'volume', Name: v.name, Source: v.source, Destination: v.target, Driver: 'local', Mode: v.readonly ? 'ro' : 'z', RW: !v.readonly, Propagation: '' }
      : { Type: 'bind', Source: v.source, Destination: v.target, Mode: v.readonly ? 'ro' : '', RW: !v.readonly, Propagation: 'rprivate' })),
    ...spec.tmpfs.map((t) => ({ Type: 'tmpfs', Source: '', Destination: t.target, Mode: t.options, RW: !/(^|,)ro(,|$)/.test(t.options), Propagation: '' })),
  ];
}
