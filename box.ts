#!/usr/bin/env node
// box: a small Linux container runtime. This file only dispatches: each verb lives in
// lib/cli/ (over the Container API, lib/container/). Errors become one line; exit statuses
// as Docker's (errorStatus).
import { BoxError, FlagError } from './lib/libc/errors';
import { HelpRequested } from './lib/options/flags';

const USAGE = `Usage:  box COMMAND

A small container runtime: namespaces, cgroups, pivot_root, done by box itself.

Commands:
  run       Create and run a new container from an image (-d: in the background)
  create    Create a container, set up and waiting to start
  start     Start created or stopped containers (-a: attached)
  restart   Restart containers (stop, then start)
  attach    Attach to a running detached container's input and output
  exec      Run a command in a running container (setns into its namespaces)
  ps        List containers
  logs      Fetch the logs of a detached container
  stop      Stop running containers (stop signal, then SIGKILL)
  kill      Send a signal to running containers
  wait      Block until containers stop, then print their exit codes
  pause     Freeze every process of containers (cgroup freezer)
  unpause   Thaw paused containers
  update    Change the CPU, memory and PIDs limits of running containers
  rm        Remove one or more containers
  rename    Rename a container
  cp        Copy files between a container and the host (or a tar stream)
  inspect   Low-level information on containers (Docker's keys)
  stats     Live resource usage from the containers' cgroups
  top       The processes of a container, with host PIDs
  ns        The namespaces of a container next to the host's
  prune     Remove stopped containers and whatever crashed runs left
  pull      Download an image from a registry (OCI distribution API)
  import    Import an OCI layout, a docker save archive or a rootfs tarball
  images    List images
  rmi       Remove images
  image     inspect | ls | rm | pull | import | prune
  volume    create | ls | rm | inspect | prune (named volumes)
  network   create | ls | rm | inspect | prune (bridge networks)
  system    prune: stopped containers, dangling images, unreferenced blobs and layers
  info      Display what this host offers to containers
  oci       box as an OCI runtime (runc's interface: create, start, state, kill, delete, exec…)
  version   Show the box version

Run 'box COMMAND --help' for more information on a command.
`;

/**
 * The hidden verbs: box re-executes itself (Node cannot fork) as these helper processes.
 * Never typed by users; their arguments come from box.
 */
const HIDDEN: Record<string, (args: string[]) => any> = {
  __init: () => require('./lib/inside/init').stageInit(),             // a container's PID 1 until execve
  __exec: () => require('./lib/inside/exec').stageExec(),             // joins a container for `box exec`
  __anchor: () => require('./lib/supervisor/anchor').anchor(),           // subreaper above the supervisor, then `sleep`
  __supervisor: (a) => require('./lib/supervisor/daemon').serve(a[0]),        // owns every detached container of a store
  __untar: (a) => require('./lib/image/extract').untarHelper(a[0], a[1]), // unpacks a layer chrooted into it
  __cproot: (a) => require('./lib/container/cp-root').cpRootHelper(a[0]), // mounts a stopped container's overlay for `box cp`
};

/** The verbs that read or change the store (info, version and help do not: any user may run them). */
const STORE_VERBS = new Set(['run', 'attach', 'ps', 'rm', 'exec', 'stop', 'kill', 'wait', 'pause', 'unpause', 'update', 'rename', 'cp', 'logs', 'inspect', 'stats', 'top', 'ns', 'create', 'start', 'restart', 'prune', 'pull', 'import', 'images', 'rmi', 'image', 'system', 'volume', 'network']);

async function main(argv: string[]): Promise<number> {
  const [verb, ...args] = argv;
  if (Object.hasOwn(HIDDEN, verb ?? '')) return HIDDEN[verb](args);
  // box as an OCI runtime (runc's CLI, for podman, dockerd, containerd): `box oci …`, runc's global flags first, or a *runc name
  if (verb === 'oci') return require('./lib/oci/cli').oci(args);
  if (verb?.startsWith('--') || /runc$/.test(process.argv[1] ?? '')) {
    const cli = require('./lib/oci/cli');
    if (cli.isOciInvocation(argv, process.argv[1] ?? '')) return cli.oci(argv);
  }
  // the store, its records and logs are root's (0700): as another user they would look empty
  // ("No such container", an empty `ps -a`), which hides the real problem
  if (STORE_VERBS.has(verb ?? '') && typeof process.geteuid === 'function' && process.geteuid() !== 0) {
    throw new BoxError(`box ${verb}: permission denied: box manages containers as root (try sudo)`, verb === 'run' || verb === 'create' ? 125 : 1);
  }
  switch (verb) {
    case 'run': return require('./lib/cli/run').run(args);
    case 'ps': return require('./lib/cli/ps').ps(args);
    case 'rm': return require('./lib/cli/rm').rm(args);
    case 'attach': return require('./lib/cli/attach').attach(args);
    case 'exec': return require('./lib/cli/exec').exec(args);
    case 'stop': return require('./lib/cli/stop').stop(args);
    case 'kill': return require('./lib/cli/stop').kill(args);
    case 'wait': return require('./lib/cli/stop').wait(args);
    case 'pause': return require('./lib/cli/pause').pause(args);
    case 'unpause': return require('./lib/cli/pause').unpause(args);
    case 'update': return require('./lib/cli/update').update(args);
    case 'logs': return require('./lib/cli/logs').logs(args);
    case 'rename': return require('./lib/cli/rename').rename(args);
    case 'cp': return require('./lib/cli/cp').cp(args);
    case 'inspect': return require('./lib/cli/inspect').inspect(args);
    case 'stats': return require('./lib/cli/stats').stats(args);
    case 'top': return require('./lib/cli/top').top(args);
    case 'ns': return require('./lib/cli/ns').ns(args);
    case 'create': return require('./lib/cli/create').create(args);
    case 'start': return require('./lib/cli/create').start(args);
    case 'restart': return require('./lib/cli/restart').restart(args);
    case 'prune': return require('./lib/cli/prune').prune(args);
    case 'pull': return require('./lib/cli/pull').pull(args);
    case 'import': return require('./lib/cli/pull').importCmd(args);
    case 'images': return require('./lib/cli/images').images(args);
    case 'rmi': return require('./lib/cli/images').rmi(args);
    case 'image': return require('./lib/cli/images').image(args);
    case 'system': return require('./lib/cli/system').system(args);
    case 'volume': return require('./lib/cli/volume').volume(args);
    case 'network': return require('./lib/cli/network').network(args);
    case 'info': return require('./lib/cli/info').info(args);
    case 'version': case '--version': case '-v':
      if (args.includes('--help')) throw new HelpRequested('version', {});
      return require('./lib/cli/info').version();
    case undefined: case 'help': case '--help':
      process.stdout.write(USAGE);
      return 0;
    default:
      throw new BoxError(`box: '${verb}' is not a box command.\nSee 'box --help'`);
  }
}

// Run as a program (./box, node ./box, tsx box.ts) box is the CLI; require()d (box.mjs, or
// require('box') from an app) it is the library and must neither read argv nor exit.
if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => exit(code),
    (e) => {
      if (e instanceof HelpRequested) {
        process.stdout.write(require('./lib/cli/help').helpText(e.verb, e.options));
        return exit(0);
      }
      const known = e instanceof BoxError || e?.name === 'SysError' || e?.call;
      process.stderr.write(`${known ? '' : 'box: '}${e?.message ?? e}\n`);
      if (!known && process.env.BOX_DEBUG) process.stderr.write(`${e?.stack}\n`);
      exit(errorStatus(process.argv[2], e));
    },
  );
} else {
  module.exports = require('./lib/library');
}

/**
 * Docker's exit statuses for the CLI's own failures: `run` and `create` fail with 125 (126/127:
 * the command cannot be run); a wrong flag is 125 for every verb; every other verb's failure —
 * no such container, not running, paused, a bad signal or limit, a missing argument, a failed
 * pull, an unknown verb — is 1, except exec's set-up failures (125) and 126/127. box's helper
 * verbs and `box oci` keep their own statuses.
 */
function errorStatus(verb: string | undefined, e: any): number {
  const status = e instanceof BoxError ? e.status : 125;
  // a wrong flag; exec's command not runnable (126/127) or its set-up refused (a stage failure)
  if (e instanceof FlagError || status === 126 || status === 127 || e?.code === 'setup') return status;
  // `box network`: a refused create (a name taken, an overlapping subnet) is bad input, 125; rm and inspect return Docker's 1 themselves
  if (verb === 'run' || verb === 'create' || verb === 'network' || verb === 'oci' || Object.hasOwn(HIDDEN, verb ?? '') || verb?.startsWith('--') || /runc$/.test(process.argv[1] ?? '')) return status;
  return 1;
}

/** Exit once stdout has drained: relays and signal handlers must not keep box alive. */
function exit(code: number) {
  if (code === undefined) return; // the --init stage keeps running as the container's init
  process.stdout.write('', () => process.exit(code));
}
