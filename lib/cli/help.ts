// `box VERB --help`, for every verb, from this one place: each verb's usage line and what it
// does, and one description per flag. The flags listed are exactly those the verb's own
// option table accepts (parseCommand throws HelpRequested with that table, box.ts prints
// helpText()), so the help cannot promise a flag the verb refuses or leave one out; a flag
// without a description here is a test failure (test/unit/help.test.ts).
import type { OptionTable } from '../options/flags';
import { RUN_EXTRA_FLAGS, VOLUME_VERBS } from './help-extra';
import { NETWORK_VERBS } from './help-network';

/** A flag's description; for a flag that takes a value, [value name, description]. */
type Flag = string | [string, string];
interface Verb { usage: string; about: string; flags?: Record<string, Flag> }

const RUN_FLAGS: Record<string, Flag> = {
  detach: 'Run container in background and print container ID',
  interactive: 'Keep STDIN open even if not attached',
  tty: 'Allocate a pseudo-TTY',
  rm: 'Automatically remove the container when it exits (its output is not logged)',
  name: ['string', 'Assign a name to the container'],
  hostname: ['string', 'Container host name (default: the short id)'],
  env: ['list', 'Set environment variables'],
  'env-file': ['list', 'Read in a file of environment variables'],
  workdir: ['string', 'Working directory inside the container'],
  user: ['string', 'Username or UID (format: <name|uid>[:<group|gid>])'],
  init: 'Run an init inside the container that forwards signals and reaps processes',
  'read-only': "Mount the container's root filesystem as read only",
  volume: ['list', 'Bind mount a host path or a named volume (HOST|NAME:CONTAINER[:ro]; CONTAINER alone: an anonymous volume)'],
  tmpfs: ['list', 'Mount a tmpfs directory (PATH[:OPTIONS])'],
  'cap-add': ['list', 'Add Linux capabilities'],
  'cap-drop': ['list', 'Drop Linux capabilities'],
  privileged: 'Give extended privileges to this container (all capabilities, no masked paths)',
  'security-opt': ['list', 'Security options (seccomp=PROFILE|unconfined, no-new-privileges)'],
  'no-pivot': 'Use MS_MOVE + chroot instead of pivot_root',
  'proc-view': 'Show the container its own limits in /proc/meminfo, cpuinfo… and sysinfo(2) (default true; --proc-view=false: the host\'s)',
  'stop-signal': ['string', 'Signal to stop the container (default SIGTERM)'],
  'stop-timeout': ['int', 'Seconds to wait before killing it on stop (default 10)'],
  entrypoint: ['string', 'Overwrite the default ENTRYPOINT of the image'],
  restart: ['string', 'Restart policy to apply when a container exits (no, on-failure[:max-retries], always, unless-stopped)'],
  ...RUN_EXTRA_FLAGS,
  'add-host': ['list', 'Add a custom host-to-IP mapping (host:ip)'],
  dns: ['list', 'Set custom DNS servers'],
  'dns-search': ['list', 'Set custom DNS search domains'],
  'dns-option': ['list', 'Set DNS options'],
  sysctl: ['list', 'Namespaced kernel parameters (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*)'],
  'group-add': ['list', 'Add additional groups to join'],
};
const LIMIT_FLAGS: Record<string, Flag> = {
  cpus: ['decimal', 'Number of CPUs'],
  'cpu-period': ['int', 'Limit CPU CFS (Completely Fair Scheduler) period'],
  'cpu-quota': ['int', 'Limit CPU CFS (Completely Fair Scheduler) quota'],
  'cpu-shares': ['int', 'CPU shares (relative weight)'],
  'cpuset-cpus': ['string', 'CPUs in which to allow execution (0-3, 0,1)'],
  'cpuset-mems': ['string', 'MEMs in which to allow execution (0-3, 0,1)'],
  memory: ['bytes', 'Memory limit'],
  'memory-swap': ['bytes', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"],
  'memory-reservation': ['bytes', 'Memory soft limit'],
  'pids-limit': ['int', 'Tune container pids limit (set -1 for unlimited)'],
};
const FORMAT: Flag = ['string', "Format output: 'json', or a Go template ('table …' with a header)"];
const CONTAINERS = 'CONTAINER [CONTAINER...]';

export const VERBS: Record<string, Verb> = {
  run: { usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]', about: 'Create and run a new container from an image (busybox, a rootfs directory or tarball, an image of the store).', flags: { ...RUN_FLAGS, ...LIMIT_FLAGS } },
  create: { usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]', about: 'Create a new container, set up and waiting for box start.', flags: { ...RUN_FLAGS, ...LIMIT_FLAGS } },
  start: { usage: `[OPTIONS] ${CONTAINERS}`, about: 'Start one or more created or stopped containers.', flags: { attach: "Attach STDOUT/STDERR and return the container's exit status", interactive: 'Attach the container\'s output (box holds no STDIN for a detached container)' } },
  attach: {
    usage: '[OPTIONS] CONTAINER', about: "Attach local standard input, output, and error streams to a running detached container (its output from now on; its exit status when it ends).",
    flags: { 'no-stdin': 'Do not attach STDIN', 'sig-proxy': ['bool', 'Proxy all received signals to the process (non-TTY mode only; default true)'], 'detach-keys': ['string', 'Override the key sequence for detaching a container (default ctrl-p,ctrl-q)'] },
  },
  restart: { usage: `[OPTIONS] ${CONTAINERS}`, about: 'Restart one or more containers (stop, then start).', flags: { time: ['int', 'Seconds to wait before killing the container'] } },
  exec: {
    usage: '[OPTIONS] CONTAINER COMMAND [ARG...]', about: 'Execute a command in a running container (it joins the container\'s namespaces and cgroups).',
    flags: { interactive: RUN_FLAGS.interactive, tty: RUN_FLAGS.tty, detach: 'Detached mode: run command in the background', env: RUN_FLAGS.env, 'env-file': RUN_FLAGS['env-file'], workdir: RUN_FLAGS.workdir, user: RUN_FLAGS.user },
  },
  ps: {
    usage: '[OPTIONS]', about: 'List containers.',
    flags: { all: 'Show all containers (default shows just running)', quiet: 'Only display container IDs', 'no-trunc': "Don't truncate output", format: FORMAT, filter: ['filter', 'Filter output based on conditions provided (status, name, id, label, ancestor, exited)'], last: ['int', 'Show n last created containers (includes all states)'], latest: 'Show the latest created container (includes all states)' },
  },
  logs: {
    usage: '[OPTIONS] CONTAINER', about: 'Fetch the logs of a container (detached or attached; a --rm container is not logged, its log would go with it).',
    flags: {
      follow: 'Follow log output', tail: ['string', 'Number of lines to show from the end of the logs (default "all")'], timestamps: 'Show timestamps',
      since: ['string', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'],
      until: ['string', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'],
    },
  },
  stop: { usage: `[OPTIONS] ${CONTAINERS}`, about: 'Stop one or more running containers: the stop signal, then SIGKILL after the timeout.', flags: { time: ['int', 'Seconds to wait before killing the container'], signal: ['string', 'Signal to send to the container'] } },
  kill: { usage: `[OPTIONS] ${CONTAINERS}`, about: 'Kill one or more running containers.', flags: { signal: ['string', 'Signal to send to the container (default "KILL")'] } },
  wait: { usage: CONTAINERS, about: 'Block until one or more containers stop, then print their exit codes.' },
  pause: { usage: CONTAINERS, about: 'Pause all processes within one or more containers (cgroup freezer).' },
  unpause: { usage: CONTAINERS, about: 'Unpause all processes within one or more containers.' },
  update: { usage: `[OPTIONS] ${CONTAINERS}`, about: 'Update the CPU, memory and PIDs limits of one or more running containers.', flags: LIMIT_FLAGS },
  rename: { usage: 'CONTAINER NEW_NAME', about: 'Rename a container.' },
  cp: {
    usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n        box cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
    about: "Copy files/folders between a container and the local filesystem. '-' as the local path: a tar archive on stdout (from the container) or stdin (into it, extracted into DEST_PATH, a directory).",
    flags: { archive: 'Archive mode (copy all uid/gid information)', 'follow-link': 'Always follow symbol link in SRC_PATH' },
  },
  rm: { usage: `[OPTIONS] ${CONTAINERS}`, about: 'Remove one or more containers.', flags: { force: 'Force the removal of a running container (uses SIGKILL)', volumes: 'Remove anonymous volumes associated with the container' } },
  inspect: { usage: `[OPTIONS] ${CONTAINERS}`, about: 'Return low-level information on containers (Docker\'s keys).', flags: { format: ['string', "Format output: 'json', or a Go template"] } },
  stats: {
    usage: '[OPTIONS] [CONTAINER...]', about: 'Display a live stream of container(s) resource usage statistics, from their cgroups.',
    flags: { all: 'Show all containers (default shows just running)', 'no-stream': 'Disable streaming stats and only pull the first result', format: FORMAT, 'no-trunc': "Don't truncate output" },
  },
  top: { usage: 'CONTAINER', about: 'Display the running processes of a container, with host PIDs.' },
  ns: { usage: '[OPTIONS] CONTAINER', about: 'Show the namespaces of a container next to the host\'s.', flags: { format: ['string', "Format output: 'json'"] } },
  prune: { usage: '[OPTIONS]', about: 'Remove all stopped containers.', flags: { force: 'Do not prompt for confirmation' } },
  pull: { usage: '[OPTIONS] NAME[:TAG|@DIGEST]', about: 'Download an image from a registry (OCI distribution API).', flags: { insecure: 'Allow plain HTTP and unverified TLS to the registry' } },
  import: { usage: 'FILE|DIR [REPOSITORY[:TAG]]', about: 'Import an OCI image layout, a docker save archive or a rootfs tarball.' },
  images: { usage: '[OPTIONS]', about: 'List images.', flags: { quiet: 'Only show image IDs', format: FORMAT, 'no-trunc': "Don't truncate output" } },
  rmi: { usage: '[OPTIONS] IMAGE [IMAGE...]', about: 'Remove one or more images.', flags: { force: 'Force removal of the image' } },
  'image inspect': { usage: 'IMAGE [IMAGE...]', about: 'Display detailed information on one or more images.' },
  'image prune': { usage: '[OPTIONS]', about: 'Remove unused images: dangling ones (no tag), with -a every image no container uses; then blobs and layers no image references.', flags: { all: 'Remove all unused images, not just dangling ones', force: 'Do not prompt for confirmation' } },
  'system prune': { usage: '[OPTIONS]', about: 'Remove stopped containers, dangling images, and blobs and layers nothing references.', flags: { force: 'Do not prompt for confirmation' } },
  image: { usage: 'COMMAND', about: 'Manage images. Commands: inspect, ls, rm, pull, import, prune.' },
  system: { usage: 'COMMAND', about: 'Manage box. Commands: prune.' },
  info: { usage: '[OPTIONS]', about: 'Display what this host offers to containers.', flags: { format: ['string', "Format output: 'json', or a Go template"] } },
  version: { usage: '', about: 'Show the box version.' },
  ...VOLUME_VERBS,
  ...NETWORK_VERBS,
};

/** The help of `box VERB` for the option table the verb parses with. Throws if a flag has no description. */
export function helpText(verb: string, options: OptionTable): string {
  const v = VERBS[verb];
  if (!v) throw new Error(`no help for box ${verb}`);
  const out = [`Usage:  box ${verb}${v.usage ? ' ' + v.usage : ''}`, '', v.about];
  const rows = Object.keys(options).filter((n) => n !== 'help').sort().map((name) => {
    const o = options[name];
    const f = v.flags?.[name];
    if (f === undefined) throw new Error(`box ${verb} --help: no description of --${name} (lib/cli/help.ts)`);
    const [value, text] = typeof f === 'string' ? ['', f] : f;
    if ((o.type === 'string') !== Boolean(value)) throw new Error(`box ${verb} --help: --${name} ${o.type === 'string' ? 'takes' : 'takes no'} value (lib/cli/help.ts)`);
    return [`${o.short ? `-${o.short}, ` : '    '}--${name}${value ? ' ' + value : ''}`, text];
  });
  if (rows.length) {
    const width = Math.max(...rows.map(([l]) => l.length)) + 3;
    out.push('', 'Options:', ...rows.map(([l, t]) => `  ${l.padEnd(width)}${t}`));
  }
  return out.join('\n') + '\n';
}
