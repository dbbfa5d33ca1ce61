// The host side of the sysinfo(2) view (issue 16 part 3) for the containers this process
// runs: whether a stage loads box's sysinfo filter (lib/seccomp/sysinfo-filter.ts), and the
// one SysinfoHandler (./sysinfo-handler.ts) that answers every listener this process takes.
//
// Whoever drives a stage serves its listener: the supervisor for the containers it runs
// (detached, and attached runs on its pool), the cold `box run` for its own container, `box
// exec` for the process it execs. A listener is released when its stage exits (lib/container/
// stage.ts): for `__init` that is the container's PID 1, after which the kernel kills the rest
// of its pid namespace; for `__exec` the exec'd command — children it left running in the
// container keep the filter, and their sysinfo fails with ENOSYS from then on (below).
//
// When this process dies (kill -9 of the supervisor, of a cold `box run` — which takes its
// container with it — or of `box exec`): its listener fds close with it, and from then on
// every sysinfo in those containers fails with ENOSYS, at once and for good (a filter's
// listener cannot be replaced or handed to a successor: measured in test 41). The container
// keeps running; only sysinfo(2) is affected (busybox `free` says "Function not implemented";
// glibc's sysconf(_SC_PHYS_PAGES) ignores the error). Test 43 checks this.
import type { ContainerSpec } from '../options/types';
import type { SeccompFilter } from '../seccomp';
import { wantsProcView } from '../options/proc-view';
import { sysinfoViewSupport, sysinfoFilter } from '../seccomp/sysinfo-filter';
import { SysinfoHandler } from './sysinfo-handler';

let program: string | undefined; // '' where the kernel cannot run the view
let handler: SysinfoHandler | undefined;

/**
 * The sysinfo filter a stage loads (StageConfig.sysinfoView: its program, made here so the
 * stage carries no compiler), or undefined. None when:
 * - `--proc-view=false`;
 * - the kernel has no user notification (5.0+; `box info` says so);
 * - the container has no seccomp filter at all (`--privileged`, `seccomp=unconfined`): those
 *   promise a process with no filter, as Docker's do (/proc/self/status "Seccomp: 0"), and a
 *   tool that checks for one must find none;
 * - its profile has SCMP_ACT_NOTIFY: a task may hold only one listener (the second is EBUSY),
 *   and the user's agent has it;
 * - OCI mode (lib/oci/ makes its own StageConfig, without the field; finish.ts checks cfg.oci
 *   too): the engine's config.json decides the filter, and the container outlives `box create`,
 *   so nobody here would serve it.
 */
export function sysinfoViewFor(spec: Pick<ContainerSpec, 'procView'>, seccomp: SeccompFilter | undefined): string | undefined {
  if (!wantsProcView(spec) || !seccomp || seccomp.listener) return undefined;
  program ??= sysinfoViewSupport().ok ? sysinfoFilter().toString('base64') : '';
  return program || undefined;
}

/**
 * Serve a listener fd (this process owns it from now); returns its release. The handler is
 * made at the first one, and its poll never keeps this process from exiting: process.exit
 * ends it first (libuv's exit waits for its pool threads, one of which polls).
 */
export function serveSysinfo(fd: number): () => void {
  if (!handler) {
    handler = new SysinfoHandler({ log: (l) => process.stderr.write(`box: ${l}\n`) });
    const h = handler;
    process.on('exit', () => h.stopNow());
  }
  return handler.add(fd);
}

/** How many listeners this process serves now (tests, the supervisor's fd accounting). */
export const servedListeners = (): number => handler?.size ?? 0;
