// A container described as data: everything `box run` was asked for, validated, before
// anything touches the host. The stage receives this object (plus paths) as JSON.
import { Resources } from './resources';
import { SeccompFilter } from '../seccomp';

export interface Volume { source: string; target: string; readonly: boolean }
export interface Tmpfs { target: string; options: string }

export interface ContainerSpec {
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
}

/** What the stage needs besides the spec: where things are on the host. */
export interface StageConfig {
  spec: ContainerSpec;
  rootfs: { lower: string[]; upper?: string; work?: string; merged: string; copy?: boolean };
  cgroupProcs: string[];    // cgroup.procs files to join just before execve (box joined the others already)
  cgroupns: boolean;
  seccomp?: SeccompFilter;  // installed last before execve; none with --privileged or seccomp=unconfined
}
