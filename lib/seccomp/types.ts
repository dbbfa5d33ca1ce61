// The seccomp profile as data: the OCI runtime spec's `LinuxSeccomp` (config.json's
// linux.seccomp), which Docker's profile.json extends with `archMap` and per-rule
// `includes`/`excludes` (by capability, architecture and minimum kernel). One structure for
// `--security-opt seccomp=FILE`, the built-in default and, later, OCI bundles.

export type SeccompAction =
  | 'SCMP_ACT_KILL' | 'SCMP_ACT_KILL_THREAD' | 'SCMP_ACT_KILL_PROCESS' | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO' | 'SCMP_ACT_TRACE' | 'SCMP_ACT_ALLOW' | 'SCMP_ACT_LOG' | 'SCMP_ACT_NOTIFY';

export type SeccompOp =
  | 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

/** libseccomp's architecture tokens; box has syscall tables for these. */
export type SeccompArch = 'SCMP_ARCH_X86_64' | 'SCMP_ARCH_X86' | 'SCMP_ARCH_X32' | 'SCMP_ARCH_AARCH64' | 'SCMP_ARCH_ARM';

export interface SeccompArg {
  index: number;            // 0..5
  value: number | bigint;   // JSON numbers above 2^53 are not exact: profiles keep them below
  valueTwo?: number | bigint;
  op: SeccompOp;
}

/** Docker's filter on a rule: it applies only when every listed condition holds. */
export interface SeccompFilter {
  caps?: string[];          // CAP_* names (includes: any held; excludes: any held excludes)
  arches?: string[];        // libseccomp tokens without the prefix, as Docker writes them: "amd64", "x86", "arm64", … or SCMP_ARCH_*
  minKernel?: string;       // "4.8"
}

export interface SeccompRule {
  names: string[];          // (Docker's older `name` is accepted too)
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
  comment?: string;
}

export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];                                            // OCI: SCMP_ARCH_* tokens
  archMap?: { architecture: string; subArchitectures: string[] }[];    // Docker: picked by the host's arch
  flags?: string[];                                                    // SECCOMP_FILTER_FLAG_* names
  listenerPath?: string;                                               // OCI: where SCMP_ACT_NOTIFY's fd is sent
  listenerMetadata?: string;
  syscalls?: SeccompRule[];
}
