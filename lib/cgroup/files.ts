// Every cgroup file box writes or reads, named once. v1 has one hierarchy per controller
// (or co-mounted set); v2 has one tree where each file carries its controller's prefix.
export const V1 = {
  cpu: { period: 'cpu.cfs_period_us', quota: 'cpu.cfs_quota_us', shares: 'cpu.shares' },
  cpuacct: { usage: 'cpuacct.usage' },
  cpuset: { cpus: 'cpuset.cpus', mems: 'cpuset.mems' },
  memory: {
    limit: 'memory.limit_in_bytes', memsw: 'memory.memsw.limit_in_bytes', soft: 'memory.soft_limit_in_bytes',
    usage: 'memory.usage_in_bytes', oomControl: 'memory.oom_control', stat: 'memory.stat',
  },
  pids: { max: 'pids.max', current: 'pids.current' },
  devices: { allow: 'devices.allow', deny: 'devices.deny' },
  freezer: { state: 'freezer.state' },
} as const;

export const V2 = {
  controllers: 'cgroup.controllers',
  subtree: 'cgroup.subtree_control',
  kill: 'cgroup.kill',
  freeze: 'cgroup.freeze',
  events: 'cgroup.events',
  cpu: { max: 'cpu.max', weight: 'cpu.weight', stat: 'cpu.stat' },
  cpuset: { cpus: 'cpuset.cpus', mems: 'cpuset.mems' },
  memory: { max: 'memory.max', swapMax: 'memory.swap.max', low: 'memory.low', current: 'memory.current', events: 'memory.events', stat: 'memory.stat' },
  pids: { max: 'pids.max', current: 'pids.current' },
} as const;

export const PROCS = 'cgroup.procs';
/** v1's per-thread membership file: "0" written there moves the writing thread alone. */
export const TASKS = 'tasks';

/** Docker's default device rules (moby: oci/devices + the default allow list). */
export const DEFAULT_DEVICE_RULES = [
  'c *:* m', 'b *:* m',                       // mknod of anything (CAP_MKNOD stays, as in Docker)…
  'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm',      // …but only these can be opened: null zero full
  'c 1:8 rwm', 'c 1:9 rwm',                   // random urandom
  'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm',      // tty console ptmx
  'c 136:* rwm',                              // the ptys of the container's devpts
  'c 10:200 rwm',                             // tun
];
