// config.json's process fields that box's own flags do not have (ProcessExtras), carried out
// by the `__init` stage (finish.ts) and the `__exec` stage (exec.ts) on the thread that execs
// or spawns the user's process, in runc's order:
//   1. applyProcessLimits — oom_score_adj, umask, rlimits: after the stage's own set-up (a
//      small RLIMIT_NOFILE or RLIMIT_AS must not starve Node), before the seccomp filter and
//      the capability drop (lowering oom_score_adj or setting an rlimit may need what is dropped);
//   2. applyCapabilities (from dropPrivileges, in place of libc.limitCapabilities) — bounding
//      set first (PR_CAPBSET_DROP needs CAP_SETPCAP, which the config may not keep), then the
//      user's ids with PR_SET_KEEPCAPS (a non-root user keeps the permitted set across
//      setresuid), then effective/permitted/inheritable by capset, ambient last (the kernel
//      raises an ambient capability only if it is permitted and inheritable);
//   3. noNewKeyring: the caller skips joinNewSessionKeyring.
// setdomainname (libc.setdomainname) goes where sethostname is, in init.ts.
import { libc } from '../libc/seam';
import { PR } from '../libc/constants';
import { RLIMIT, RLIM_INFINITY } from '../libc/process';
import { capNumber, CAPS } from '../options/capabilities';
import type { ProcessExtras, ContainerSpec } from '../options/types';
import { asRlimits } from '../options/ulimits';

const PR_SET_KEEPCAPS = 8;
const PR_CAP_AMBIENT_RAISE = 2;

/** oom_score_adj, umask, then the rlimits (last: a tiny RLIMIT_NOFILE would stop the write of oom_score_adj). */
export function applyProcessLimits(x: ProcessExtras) {
  if (x.oomScoreAdj !== undefined) setOomScoreAdj(x.oomScoreAdj);
  // runc's default when config.json has none: 022, not whatever the engine's monitor had
  const umask = x.umask ?? 0o022;
  if (!Number.isInteger(umask) || umask < 0 || umask > 0o777) throw new Error(`umask ${umask}: not a mode from 0 to 0777`);
  libc.umask(umask);
  for (const r of x.rlimits ?? []) setRlimit(r);
}

/** box's own --oom-score-adj and --ulimit (a ContainerSpec's), set as OCI mode's are; errors name the flag. */
export function applySpecLimits(spec: Pick<ContainerSpec, 'ulimits' | 'oomScoreAdj'>) {
  if (spec.oomScoreAdj !== undefined) {
    try { setOomScoreAdj(spec.oomScoreAdj); } catch (e: any) { throw new Error(`--oom-score-adj: ${e.message}`); }
  }
  const limits = asRlimits(spec.ulimits ?? []);
  spec.ulimits?.forEach((u, i) => {
    try { setRlimit(limits[i]); } catch (e: any) { throw new Error(`--ulimit ${u.name}: ${e.message}`); }
  });
}

/**
 * oom_score_adj through /proc/self: the `__exec` stage calls it before it joins the
 * container's mount namespace, whose /proc has no entry for a process outside its pid
 * namespace; the spawned command inherits the value.
 */
export function setOomScoreAdj(v: number) {
  if (!Number.isInteger(v) || v < -1000 || v > 1000) throw new Error(`oomScoreAdj ${v}: not an integer from -1000 to 1000`);
  try {
    libc.writeFile('/proc/self/oom_score_adj', String(v));
  } catch (e: any) {
    // below the current value needs CAP_SYS_RESOURCE, which root on some hosts lacks
    throw new Error(`oomScoreAdj ${v}: write /proc/self/oom_score_adj: ${e.code ?? e.message}`);
  }
}

/** A JSON number as rlim_t: 2^64-1 (RLIM_INFINITY) arrives rounded up to 2^64. */
function rlimValue(v: unknown, what: string): bigint {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`${what}: not a non-negative integer (${JSON.stringify(v)})`);
  return v >= 2 ** 64 - 1 ? RLIM_INFINITY : BigInt(v);
}
const show = (v: bigint) => (v === RLIM_INFINITY ? 'unlimited' : String(v));

/**
 * Never above the hard limit box has: raising it needs CAP_SYS_RESOURCE (root on some hosts,
 * this one included, lacks it), and a container must not get more than its runtime had.
 * runc fails there too; box says which limit and both values.
 */
function setRlimit(r: ProcessExtras['rlimits'][number]) {
  const resource = RLIMIT[r.type];
  if (resource === undefined) throw new Error(`rlimit ${r.type}: unknown (RLIMIT_NOFILE, RLIMIT_NPROC, …)`);
  const soft = rlimValue(r.soft, `rlimit ${r.type} soft`), hard = rlimValue(r.hard, `rlimit ${r.type} hard`);
  if (soft > hard) throw new Error(`rlimit ${r.type}: soft limit ${show(soft)} is above its hard limit ${show(hard)}`);
  const have = libc.getrlimit(resource, r.type);
  if (hard > have.hard) throw new Error(`rlimit ${r.type}: hard limit ${show(hard)} asked, above box's own hard limit ${show(have.hard)}`);
  libc.setrlimit(resource, soft, hard, r.type);
}

/** CAP_* names as a mask; names this kernel does not have (above cap_last_cap) or box does not know are left out, as runc does. */
function capMask(names: string[] | undefined, lastCap: number): bigint {
  let m = 0n;
  for (const name of names ?? []) {
    const n = capNumber(name);
    if (n >= 0 && n <= lastCap) m |= 1n << BigInt(n);
  }
  return m;
}

/**
 * The five sets of config.json's process.capabilities, `changeIds` (setgroups/setresgid/
 * setresuid, when the user is not root) called between the bounding set and the others.
 * Only what the stage holds can be kept (a host root may itself lack some, e.g.
 * CAP_SYS_RESOURCE): the rest of each set is left out, as box's own path does.
 */
export function applyCapabilities(caps: ProcessExtras['capabilities'], lastCap: number, changeIds: () => void) {
  const bounding = capMask(caps.bounding, lastCap);
  for (let c = 0; c <= lastCap; c++) if (!(bounding & (1n << BigInt(c)))) named(`drop ${capName(c)} from the bounding set`, () => libc.prctl(PR.CAPBSET_DROP, c));
  const held = libc.capGet().permitted;
  libc.prctl(PR_SET_KEEPCAPS, 1); // setresuid to a non-root user would clear the permitted set
  changeIds();
  libc.prctl(PR_SET_KEEPCAPS, 0);
  const permitted = capMask(caps.permitted, lastCap) & held;
  const effective = capMask(caps.effective, lastCap) & permitted;
  const inheritable = capMask(caps.inheritable, lastCap) & held;
  named('set the effective, permitted and inheritable sets', () => libc.capSet({ effective, permitted, inheritable }));
  libc.prctl(PR.CAP_AMBIENT, PR.CAP_AMBIENT_CLEAR_ALL);
  const ambient = capMask(caps.ambient, lastCap) & permitted & inheritable; // the kernel refuses any other
  for (let c = 0; c <= lastCap; c++) if (ambient & (1n << BigInt(c))) named(`raise ${capName(c)} in the ambient set`, () => libc.prctl(PR.CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c));
}

const capName = (n: number) => (CAPS[n] ? `CAP_${CAPS[n]}` : `capability ${n}`);

/** Errors say which capability step failed, not only "prctl: EPERM". */
function named<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e: any) {
    throw new Error(`capabilities: ${what}: ${e.message}`);
  }
}
