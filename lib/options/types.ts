// A container described as data: everything `box run` was asked for, validated, before
// anything touches the host. The stage receives this object (plus paths) as JSON.
import { Resources } from './resources';
import { SeccompFilter } from '../seccomp';
import type { MountOp } from '../mount/plan';
import type { RestartPolicy } from './restart';
import type { EtcFields } from './etc';

// name: a named (or, with anonymous, a `-v /path`) volume under the store's volumes directory
// (source is then its _data); populate: copy the image's files there first (set at create,
// only by the create that first uses the volume: lib/container/volumes.ts)
export interface Volume { source: string; target: string; readonly: boolean; name?: string; anonymous?: boolean; populate?: boolean }
/** --ulimit: Docker's name (nofile, nproc, …), -1 unlimited. */
export interface Ulimit { name: string; soft: number; hard: number }
/** --device: the host node as stat() found it, made again (mknod) at target in the container. */
export interface Device { source: string; target: string; type: 'c' | 'b'; major: number; minor: number; mode: number; uid: number; gid: number; permissions: string }
/** --log-driver/--log-opt: json-file (rotated when maxSize is set) or none. */
export interface LogConfig { type: 'json-file' | 'none'; opts: Record<string, string>; maxSize?: number; maxFile?: number }
export interface Tmpfs { target: string; options: string }

/** EtcFields (lib/options/etc.ts): --add-host, --dns*, --sysctl, --group-add; all optional (older records have none). */
export interface ContainerSpec extends EtcFields {
  id: string;
  name: string;
  image: string;            // what the user typed (busybox, a path)
  command: string[];        // argv as given (after image defaults)
  env: string[];            // KEY=VALUE, Docker's order: image, then -e/--env-file
  workdir: string;
  user: { uid: number; gid: number; groups: number[]; name?: string };
  hostname: string;
  tty: boolean;
  stdin: boolean;
  rm: boolean;
  init: boolean;
  readOnly: boolean;
  noPivot: boolean;
  privileged: boolean;
  capabilities: string[];   // CAP_* names in the bounding/effective set
  seccomp: string;          // the profile: "builtin" (Docker's default), "unconfined", or the file it was read from
  noNewPrivileges: boolean;
  volumes: Volume[];
  tmpfs: Tmpfs[];
  resources: Resources;
  stopSignal: string;       // SIGTERM by default (or a number)
  stopTimeout: number;      // seconds between the stop signal and SIGKILL
  // lib/options/run-extra.ts (all optional: older records have none)
  labels?: Record<string, string>; // -l/--label-file, merged over the image's Labels at create
  ulimits?: Ulimit[];
  shmSize?: number;         // bytes of the /dev/shm tmpfs (Docker's 64m if unset)
  devices?: Device[];
  oomScoreAdj?: number;
  log?: LogConfig;
  restart?: RestartPolicy;  // --restart (none: Docker's "no"); the supervisor carries it out
  procView?: false;         // --proc-view=false (lib/options/proc-view.ts); absent: the view is on
}

/** What the stage needs besides the spec: where things are on the host. */
export interface StageConfig {
  spec: ContainerSpec;
  rootfs: { lower: string[]; upper?: string; work?: string; merged: string; copy?: boolean };
  cgroupProcs: string[];    // files the stage writes "0" to just before execve (cgroup.procs; v1: `tasks`, see joinPlan); box joined the others already
  cgroupns: boolean;
  cgroupfs?: { v2: boolean; dirs: string[] }; // the container's own cgroup directories (v1: <mountpoint>/<parent>/<id>, one per hierarchy), bound at /sys/fs/cgroup (lib/mount/plan.ts)
  seccomp?: SeccompFilter;  // installed last before execve; none with --privileged or seccomp=unconfined
  stdio?: number[];         // a pooled stage (spawned before its stdio was known): the fds (of 0–2) whose replacements box queued on fd 4, in this order
  oci?: OciStage;           // OCI mode (lib/oci/): the setup comes from a bundle's config.json, not from box's flags
  etcDir?: string;          // the container's directory with the hostname, hosts and resolv.conf box wrote (lib/container/etc-files.ts), bound over /etc/…; none for an older record
  detached?: boolean;       // run by the supervisor (run -d, create): from `start` on, outlives it (no parent-death signal)
  sysinfoView?: string;     // box's sysinfo filter (BPF, base64), loaded right before `seccomp`, its listener sent to box (lib/procview/sysinfo-host.ts decides)
  procView?: ProcViewFiles; // the /proc view (lib/procview/host.ts): one /dev/fuse fd per file, queued on fd 4 after the stdio, in this order
}

/** The view's files, in the order of their /dev/fuse fds on the fd socket; `fds`: filled in by the stage once it received them. */
export interface ProcViewFiles { files: { kind: string; target: string }[]; fds?: number[] }

/**
 * What an OCI bundle's config.json asks of the stage beyond a ContainerSpec, translated on the
 * host (lib/oci/) so that the stage only carries it out.
 */
export interface OciStage {
  plan: MountOp[];          // the whole mount plan, built from config.json (lib/oci/mounts.ts), used instead of mountPlan()
  gate: string;             // the exec fifo: opened read-write before anything, read at `start` (lib/oci/start.ts)
  unshare: number;          // CLONE_* flags of the namespaces to make (mount, uts, ipc, net, cgroup as config.json lists them)
  join: { type: string; path: string }[]; // namespaces joined by path (pid is joined by box before the spawn)
  process: ProcessExtras;
  domainname?: string;
  hooks: { createContainer: Hook[]; startContainer: Hook[] };
  state: string;            // the OCI state JSON (status "creating") the in-container hooks get on stdin
}

export interface Hook { path: string; args?: string[]; env?: string[]; timeout?: number }

/** config.json's process fields that box's own flags do not have. */
export interface ProcessExtras {
  rlimits: { type: string; soft: number; hard: number }[];   // RLIMIT_* names; never raised above the hard limit box has
  umask?: number;
  oomScoreAdj?: number;
  capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] }; // CAP_* names
  noNewKeyring: boolean;
}
