// --proc-view: the container's own view of /proc's memory and CPU files and of sysinfo(2)
// (lib/procview/), on by default; `--proc-view=false` shows the host's, as Docker does.
import type { OptionTable } from './flags';
import type { ContainerSpec } from './types';

export const PROC_VIEW_OPTIONS: OptionTable = {
  'proc-view': { type: 'boolean' },
};

/** The spec field: only `false` is written (older records have none, and mean "on"). */
export function parseProcView(v: Record<string, any>): Pick<ContainerSpec, 'procView'> {
  return v['proc-view'] === false ? { procView: false } : {};
}

/** Whether a spec asks for the view (anything but an explicit false). */
export const wantsProcView = (spec: Pick<ContainerSpec, 'procView'>): boolean => spec.procView !== false;

/**
 * Whether a container's /proc and /sys get the view's mounts (lib/procview/host.ts): not with
 * --privileged, as Docker leaves its /proc unmasked there: any mount over a file of /proc
 * makes the kernel refuse a fresh proc mount in a user namespace inside (mount_too_revealing:
 * the proc mount is no longer "fully visible"), and nested engines (rootless podman, unshare
 * -U --mount-proc) need one. Test 21 checks it.
 */
export const mountsProcView = (spec: Pick<ContainerSpec, 'procView' | 'privileged'>): boolean => wantsProcView(spec) && !spec.privileged;
