// Where the cgroup hierarchies are, read from /proc/self/mountinfo (never guessed from a
// distro's usual paths). v1 controllers are matched as sets: CentOS co-mounts cpu,cpuacct.
import * as fs from 'node:fs';

export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'devices', 'freezer', 'blkio', 'net_cls', 'net_prio', 'hugetlb', 'perf_event', 'rdma', 'misc'];

export interface Hierarchy { controllers: string[]; mountpoint: string }
export interface CgroupLayout {
  mode: 'v1' | 'hybrid' | 'v2' | 'none';
  // one per mounted v1 hierarchy that has real controllers, and each named one ("name=systemd"):
  // a container gets its own cgroup in those too, as runc's cgroupfs driver makes one in
  // name=systemd, so that its /sys/fs/cgroup/systemd and cgroup namespace show only its own
  v1: Hierarchy[];
  v2?: { mountpoint: string; controllers: string[] };
}

export function parseMountinfo(text: string): CgroupLayout {
  const v1: Hierarchy[] = [];
  let v2: CgroupLayout['v2'];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const f = pre.split(' ');
    const [fstype, , superOpts] = post.split(' ');
    const root = f[3], mountpoint = f[4].replace(/\\040/g, ' ');
    if (root !== '/') continue; // a bind of a sub-cgroup (inside a container): not ours to manage
    if (fstype === 'cgroup') {
      const controllers = superOpts.split(',').filter((o) => V1_CONTROLLERS.includes(o) || (o.startsWith('name=') && o.length > 5));
      if (controllers.length && !v1.some((h) => h.controllers.join() === controllers.join())) v1.push({ controllers, mountpoint });
    } else if (fstype === 'cgroup2' && !v2) {
      v2 = { mountpoint, controllers: [] };
    }
  }
  // a named hierarchy alone (name=systemd beside a cgroup2 that has the controllers) makes no v1 host
  const real = v1.some((h) => h.controllers.some((c) => !c.startsWith('name=')));
  const mode = real ? (v2 ? 'hybrid' : 'v1') : v2 ? 'v2' : 'none';
  return { mode, v1: real ? v1 : [], v2 };
}

let cached: CgroupLayout | undefined;
export function discover(): CgroupLayout {
  if (cached) return cached;
  const layout = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  if (layout.v2) {
    try {
      layout.v2.controllers = fs.readFileSync(`${layout.v2.mountpoint}/cgroup.controllers`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch { /* empty hierarchy */ }
  }
  return (cached = layout);
}

export function hasCgroupNamespace(): boolean {
  return fs.existsSync('/proc/self/ns/cgroup');
}
