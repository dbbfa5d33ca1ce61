// The seccomp filter of a container: which profile (Docker's default unless
// `--security-opt seccomp=unconfined|FILE` or --privileged), resolved against the
// container's capabilities and this kernel, compiled to BPF, and cached by a hash of all of
// that: Docker's profile resolves and compiles in a few milliseconds, a cache hit is one
// small read. The stages load the result (lib/inside/finish.ts, exec.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { SeccompProfile, SeccompAction } from './types';
import { resolveProfile, Resolved, ProfileError, ACTIONS, nativeArch } from './profile';
import { seccompActionAvailable } from '../libc/seccomp';
import { compile, AUDIT_ARCH } from './compile';
import { runFilter } from './interpret';
import { syscallNumbers } from './syscalls';
import { dockerDefaultProfile } from './docker-default';
import { cacheDirs, safeDir } from '../bundle/cache';
import { writeFileAtomic } from '../util/atomic';

/** What a stage needs to install the filter: the program and how to load it. */
export interface SeccompFilter {
  program: string;          // struct sock_filter[] bytes, base64
  sha256: string;           // of the program, shown by inspect
  flags: number;            // SECCOMP_FILTER_FLAG_* (the listener flag added by the stage)
  listener?: { path: string; metadata?: string }; // SCMP_ACT_NOTIFY: where box sends the fd
}

/** `--security-opt seccomp=…` as the user chose: the default, none, or a profile file read at `run`. */
export type SeccompChoice = { kind: 'builtin' } | { kind: 'unconfined' } | { kind: 'file'; path: string; profile: SeccompProfile };

export interface LoadOptions { noNewPrivileges: boolean; init: boolean; denyWins?: boolean }

const memo = new Map<string, SeccompFilter>();

export function seccompFilter(choice: SeccompChoice, caps: string[], privileged: boolean, load: LoadOptions): SeccompFilter | undefined {
  if (privileged || choice.kind === 'unconfined') return undefined; // Docker: --privileged runs without a filter
  const kernel = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  // The built-in profile is part of box's code, so the code's hash stands for it
  const codeHash = (globalThis as any).__boxCodeHash as string | undefined;
  const input = choice.kind === 'file' ? choice.profile : 'builtin';
  const key = codeHash && crypto.createHash('sha256').update(JSON.stringify([codeHash, process.arch, kernel.split('.').slice(0, 2), [...caps].sort(), load, input])).digest('hex');
  // a long-lived process (the library) compiles each profile once: ~20 ms a run otherwise
  const memoKey = JSON.stringify([kernel, [...caps].sort(), load, input]);
  const cached = memo.get(memoKey) ?? (key ? readCache(key) : undefined);
  if (cached) { memo.set(memoKey, cached); return cached; }
  const profile = choice.kind === 'file' ? choice.profile : dockerDefaultProfile();
  const resolved = resolveProfile(profile, { caps, kernel, denyWins: load.denyWins });
  checkActions(profile);
  const filter = toFilter(resolved);
  checkStartable(Buffer.from(filter.program, 'base64'), load);
  if (key) writeCache(key, filter);
  memo.set(memoKey, filter);
  return filter;
}

/** An action this kernel does not know would make the load fail with EINVAL at start: say which, now. */
function checkActions(p: SeccompProfile) {
  const recent: SeccompAction[] = ['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY']; // 4.14, 4.14, 5.0
  for (const a of new Set([p.defaultAction, ...(p.syscalls ?? []).map((r) => r.action)])) {
    if (recent.includes(a) && !seccompActionAvailable(ACTIONS[a])) throw new ProfileError(`${a}: this kernel does not have it`);
  }
}

/**
 * The filter is in force for box's own last steps before execve (runc's order, see
 * lib/inside/finish.ts): a profile that refuses those calls would make the stage die in
 * Node with no useful message. Check the known ones on the compiled program now, so that
 * such a profile is a one-line error at create. With no_new_privs the filter goes in after
 * the drop, and fewer calls remain.
 */
function checkStartable(program: Buffer, load: LoadOptions) {
  const needed = ['execve', 'brk', 'mmap', 'munmap', 'mprotect', 'madvise', 'futex'];
  if (load.init) needed.push('execveat');
  if (!load.noNewPrivileges) needed.push('capget', 'capset', 'prctl', 'setgroups', 'setresgid', 'setresuid', 'tgkill', 'rt_sigprocmask');
  const { token } = nativeArch();
  const table = syscallNumbers(token);
  const pass = new Set([ACTIONS.SCMP_ACT_ALLOW, ACTIONS.SCMP_ACT_LOG, ACTIONS.SCMP_ACT_NOTIFY]);
  const refused = needed.filter((name) => {
    const nr = table.get(name);
    return nr !== undefined && !pass.has(runFilter(program, { nr, arch: AUDIT_ARCH[token] }));
  });
  if (refused.length) {
    throw new ProfileError(`refuses ${refused.join(', ')}, which box calls after loading the filter and before execve: allow them${load.noNewPrivileges ? '' : ' (or add --security-opt no-new-privileges, which needs fewer)'}`);
  }
}

function toFilter(r: Resolved): SeccompFilter {
  const program = compile(r);
  return {
    program: program.toString('base64'),
    sha256: crypto.createHash('sha256').update(program).digest('hex'),
    flags: r.flags,
    ...(r.notify ? { listener: { path: r.listenerPath!, metadata: r.listenerMetadata } } : {}),
  };
}

// The cache lives beside the V8 code cache: a private directory of root's (a filter read from
// a file anyone could write would be a hole in every container).
function cacheFile(key: string): string | undefined {
  const dir = cacheDirs().find(safeDir);
  return dir && path.join(dir, `seccomp-${key.slice(0, 32)}.json`);
}

function readCache(key: string): SeccompFilter | undefined {
  const file = cacheFile(key);
  try {
    const f = file && JSON.parse(fs.readFileSync(file, 'utf8'));
    if (f && crypto.createHash('sha256').update(Buffer.from(f.program, 'base64')).digest('hex') === f.sha256) return f;
  } catch { /* missing or torn: compile */ }
  return undefined;
}

function writeCache(key: string, f: SeccompFilter) {
  const file = cacheFile(key);
  try { if (file) writeFileAtomic(file, JSON.stringify(f), 0o600); } catch { /* a read-only cache dir: compile next time too */ }
}
