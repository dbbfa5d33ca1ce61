// Private instances of real container engines (podman 4.3, dockerd 20.10, containerd 1.6) that
// drive an OCI runtime given by path: the built ./box or runc, so the same tests prove the
// harness on runc first. Each instance lives in its own temp dir with its own state, sockets
// and absolute cgroup parent, and stop() removes every trace of it: its processes by PID, the
// mounts under its dir, the cgroups under its parent, and the few fixed /run dirs these
// engines make on their own when they were not there before.
import { spawn, spawnSync, ChildProcess, SpawnSyncOptions } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { needs } from './box';

const TOP = path.resolve(__dirname, '..', '..');
export const BUSYBOX_TAR = path.join(TOP, 'images', 'busybox.tar.gz');
export const RUNC = '/usr/sbin/runc';
// Debian's binaries by absolute path: another `docker` (a newer client) may come first on PATH.
export const BIN = {
  podman: '/usr/bin/podman', conmon: '/usr/bin/conmon', dockerd: '/usr/sbin/dockerd', docker: '/usr/bin/docker',
  containerd: '/usr/bin/containerd', ctr: '/usr/bin/ctr', shim: '/usr/bin/containerd-shim-runc-v2',
};

/**
 * The environment an engine runs in: this process's, less what only a Node-run shell has. An
 * engine on a server starts from its service unit; NODE_EXTRA_CA_CERTS, which this machine
 * sets, makes every Node start read a certificate bundle (about 90 ms here, DESIGN.md), and
 * every runtime call the engine makes would pay it.
 */
export function engineEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** The runtime the engine suites drive: $BOX_OCI_RUNTIME (e.g. /usr/sbin/runc), else the repo's built ./box. */
export function runtimeUnderTest(): string {
  return path.resolve(process.env.BOX_OCI_RUNTIME || path.join(TOP, 'box'));
}

/** Why an engine cannot run here (a missing binary, not root), or '' when it can. */
export function missing(...bins: (keyof typeof BIN)[]): string {
  if (process.geteuid!() !== 0) return 'needs root';
  const gone = bins.map((b) => BIN[b]).filter((f) => { try { fs.accessSync(f, fs.constants.X_OK); return false; } catch { return true; } });
  if (gone.length) return `${gone.join(', ')} not installed (apt-get install podman conmon docker.io containerd)`;
  const rt = runtimeUnderTest();
  try { fs.accessSync(rt, fs.constants.X_OK); } catch { return `the runtime under test ${rt} is missing (npm run build, or set BOX_OCI_RUNTIME)`; }
  return '';
}

export interface Result { status: number; stdout: string; stderr: string }

const runSync = (cmd: string, args: string[], opts: SpawnSyncOptions = {}): Result => {
  // SIGKILL on timeout: docker run -t forwards SIGTERM to the container instead of exiting
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120000, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  return { status: r.status ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') + (r.error ? `\n${r.error.message}` : '') };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Dirs these engines create at fixed places whatever they are told (containerd 1.6's shim
// sockets and ctr's default fifos under /run/containerd, dockerd's plugin dir, runc's and box's
// default roots). Recorded before any engine starts: stop() removes only those that did not
// exist then, and only when empty (another instance on the host may be using them).
const FIXED = ['/run/containerd/s', '/run/containerd/fifo', '/run/containerd/runc/default', '/run/containerd/runc', '/run/containerd',
  '/run/docker/plugins', '/run/docker', '/run/runc', '/run/box-oci'];
const fixedBefore = new Set(FIXED.filter((d) => fs.existsSync(d)));

/** Every cgroup hierarchy's mount point (v1 ones and the v2/unified one). */
export function cgroupMounts(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').flatMap((l) => {
    const [pre, post] = l.split(' - ');
    return post && /^cgroup2? /.test(post) ? [pre.split(' ')[4]] : [];
  });
}

/** The host directory of a process's cgroup in the v1 hierarchy of `controller` (or the v2 one for ''). */
export function cgroupDirOf(pid: number, controller: string): string | undefined {
  const line = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => {
    const [, ctrls] = l.split(':');
    return controller ? ctrls?.split(',').includes(controller) : l.startsWith('0::');
  });
  if (!line) return undefined;
  const rel = line.split(':').slice(2).join(':');
  for (const m of cgroupMounts()) {
    const opts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === m) || '';
    const v2 = / - cgroup2 /.test(opts);
    if (controller ? !v2 && opts.split(' - ')[1]?.split(' ')[2]?.split(',').includes(controller) : v2) return path.join(m, rel);
  }
  return undefined;
}

const pids = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number);
const cmdlineOf = (pid: number) => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { return ''; } };
const isZombie = (pid: number) => { try { return /^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; } };
const kill = (pid: number, sig: NodeJS.Signals) => { try { process.kill(pid, sig); } catch { /* gone */ } };

export abstract class Engine {
  readonly dir: string;
  /** Absolute cgroup parent every container of this instance goes under (`/box-eng-…`). */
  readonly cgroupParent: string;
  /** The runtime as the engine calls it: a wrapper in `dir` when `log` or `rootArg`, else the runtime itself. */
  readonly runtimePath: string;
  /** The runtime's state root (--root) for this instance's containers. */
  readonly stateRoot: string;
  /** A second runtime the same instance knows as `ref` (bench/oci.ts: runc beside box), and its state root. */
  readonly refPath?: string;
  readonly refStateRoot?: string;
  protected daemons: ChildProcess[] = [];

  /**
   * stateRoot(dir): where this instance's runtime keeps its state. rootArg: the wrapper puts
   * `--root <stateRoot>` first on every call, for engines that do not pass it on every call.
   */
  constructor(kind: string, readonly runtime: string, opts: { log?: boolean; rootArg?: boolean; symlink?: boolean; stateRoot: (dir: string) => string; ref?: string }) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `box-eng-${kind}-`));
    this.cgroupParent = `/box-eng-${kind}-${crypto.randomBytes(4).toString('hex')}`;
    this.stateRoot = opts.stateRoot(this.dir);
    this.runtimePath = this.wrap('bin', runtime, this.stateRoot, opts);
    if (opts.ref) {
      this.refStateRoot = `${this.stateRoot}-ref`;
      this.refPath = this.wrap('ref', opts.ref, this.refStateRoot, opts);
    }
  }

  private wrap(sub: string, runtime: string, stateRoot: string, opts: { log?: boolean; rootArg?: boolean; symlink?: boolean }): string {
    if (opts.symlink) {
      // what a user would install: a symlink named *runc, no flags added (the runtime's default root)
      const l = path.join(this.dir, sub, 'box-runc');
      fs.mkdirSync(path.dirname(l), { recursive: true });
      fs.symlinkSync(runtime, l);
      return l;
    }
    if (!opts.log && !opts.rootArg) return runtime;
    // Named *runc (box's OCI mode answers to that name too); one line per call (time, cwd,
    // argv as the engine gave it) when `log`, so a failing test shows what the engine asked.
    const w = path.join(this.dir, sub, 'box-runc');
    fs.mkdirSync(path.dirname(w), { recursive: true });
    const call = `${runtime}${opts.rootArg ? ` --root ${stateRoot}` : ''} "$@"`;
    // with `log`, the runtime runs as a child (stdio untouched) so its exit status is on record too
    fs.writeFileSync(w, ['#!/bin/sh', ...(opts.log ? [
      `log=${this.dir}/runtime-calls.log`,
      `printf '%s\\n' "$(date +%T.%N) cwd=$PWD $*" >> $log`,
      call, 'rc=$?', `[ $rc = 0 ] || printf '%s\\n' "$(date +%T.%N)   -> exit $rc: $*" >> $log`, 'exit $rc',
    ] : [`exec ${call}`]), ''].join('\n'), { mode: 0o755 });
    return w;
  }

  /** The runtime calls the engine made so far (one line each), when started with `log`. */
  calls(): string {
    try { return fs.readFileSync(path.join(this.dir, 'runtime-calls.log'), 'utf8'); } catch { return ''; }
  }

  /** What is left in the runtime's state root (container ids). */
  stateEntries(root = this.stateRoot): string[] {
    try { return fs.readdirSync(root); } catch { return []; }
  }

  /** This instance's cgroup parent in every hierarchy that has it. */
  cgroupParents(): string[] {
    return cgroupMounts().map((m) => path.join(m, this.cgroupParent)).filter((d) => fs.existsSync(d));
  }

  /** Remove every trace: engine first (its own way), then processes, mounts, cgroups, dirs. Returns what needed force. */
  async stop(): Promise<string[]> {
    const forced: string[] = [];
    try { await this.shutdown(); } catch (e) { forced.push(`shutdown: ${(e as Error).message}`); }
    for (const d of this.daemons) {
      if (d.exitCode !== null || d.signalCode !== null) continue;
      d.kill('SIGTERM');
      const end = Date.now() + 15000;
      while (d.exitCode === null && d.signalCode === null && Date.now() < end) await sleep(50);
      if (d.exitCode === null && d.signalCode === null) { forced.push(`SIGKILL ${d.spawnfile} ${d.pid}`); d.kill('SIGKILL'); await sleep(100); }
    }
    // Processes of this instance that outlived the engine: monitors (conmon, shims) named by
    // our dir, and whatever still sits in our cgroups. A monitor may still be finishing (conmon
    // runs podman's cleanup after rm returns): 5 s of grace, then SIGKILL by PID, never by name.
    let forcedKill = false;
    for (let round = 0; round < 100; round++) {
      const left = new Set<number>();
      for (const p of pids()) if (p !== process.pid && !isZombie(p) && cmdlineOf(p).includes(this.dir)) left.add(p);
      for (const parent of this.cgroupParents()) for (const f of walk(parent, 'cgroup.procs')) {
        try { for (const p of fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map(Number)) if (!isZombie(p)) left.add(p); } catch { /* gone */ }
      }
      if (!left.size) break;
      if (round < 50) { await sleep(100); continue; }
      if (!forcedKill) forced.push(`killed ${[...left].map((p) => `${p} (${cmdlineOf(p).slice(0, 80).trim()})`).join(', ')}`);
      forcedKill = true;
      // a frozen cgroup's processes cannot die until thawed
      for (const parent of this.cgroupParents()) for (const f of walk(parent, 'freezer.state')) try { fs.writeFileSync(f, 'THAWED'); } catch { /* not v1 freezer */ }
      for (const p of left) kill(p, 'SIGKILL');
      await sleep(100);
    }
    // Mounts under our dir, deepest first (overlay roots, netns bind mounts, shm).
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && (m === this.dir || m.startsWith(this.dir + '/')));
    for (const m of mounts.sort((a, b) => b.length - a.length)) {
      forced.push(`umount ${m}`);
      if (runSync('umount', [m]).status !== 0) runSync('umount', ['-l', m]);
    }
    for (const parent of cgroupMounts().map((m) => path.join(m, this.cgroupParent))) {
      for (let i = 0; i < 50 && fs.existsSync(parent); i++) {
        for (const d of walkDirs(parent).reverse()) try { fs.rmdirSync(d); } catch { /* busy: a process is still leaving */ }
        if (fs.existsSync(parent)) await sleep(100);
      }
      if (fs.existsSync(parent)) forced.push(`cgroup left: ${parent}`);
    }
    for (const d of FIXED) if (!fixedBefore.has(d)) try { fs.rmdirSync(d); } catch { /* not there, or in use by another instance */ }
    if (!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${this.dir}`)) fs.rmSync(this.dir, { recursive: true, force: true });
    else forced.push(`left ${this.dir}: still mounted`);
    return forced;
  }

  /** The engine's own clean shutdown (remove its containers). */
  protected abstract shutdown(): Promise<void>;

  protected startDaemon(cmd: string, args: string[], env: NodeJS.ProcessEnv = engineEnv()): ChildProcess {
    const out = fs.openSync(path.join(this.dir, `${path.basename(cmd)}.log`), 'a');
    // its own process group, so a Ctrl-C to the test runner does not kill it before stop() runs
    const p = spawn(cmd, args, { stdio: ['ignore', out, out], detached: true, env });
    fs.closeSync(out);
    this.daemons.push(p);
    process.on('exit', () => { if (p.exitCode === null) kill(p.pid!, 'SIGKILL'); });
    return p;
  }

  /** The daemon's log (dockerd.log, containerd.log), for failure messages. */
  daemonLog(): string {
    return fs.readdirSync(this.dir).filter((f) => f.endsWith('.log') && f !== 'runtime-calls.log').map((f) => { try { return fs.readFileSync(path.join(this.dir, f), 'utf8'); } catch { return ''; } }).join('\n');
  }
}

function walkDirs(d: string): string[] {
  const out = [d];
  try { for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) out.push(...walkDirs(path.join(d, e.name))); } catch { /* gone */ }
  return out;
}
const walk = (d: string, file: string) => walkDirs(d).map((x) => path.join(x, file)).filter((f) => fs.existsSync(f));

async function waitFor(what: string, ok: () => boolean, daemon: ChildProcess, log: () => string, ms = 30000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (daemon.exitCode !== null || daemon.signalCode !== null) throw new Error(`${what} exited (${daemon.exitCode ?? daemon.signalCode}):\n${log().slice(-3000)}`);
    if (Date.now() > end) throw new Error(`${what} did not come up in ${ms / 1000} s:\n${log().slice(-3000)}`);
    await sleep(100);
  }
}

/**
 * podman 4.3, no daemon: a private containers.conf/storage.conf (CONTAINERS_CONF,
 * CONTAINERS_STORAGE_CONF), file locks and events in the temp dir, cgroupfs, and the runtime
 * configured as `box` (through the wrapper, which puts `--root <state>` first on every call:
 * `--runtime-flag root=…` does not reach conmon's cleanup `delete --force`).
 * Containers run from the unpacked busybox rootfs with `--rootfs DIR:O` (podman lays an overlay
 * over it): `podman import` would write to the host-wide /var/lib/containers/cache.
 */
export class Podman extends Engine {
  readonly env: NodeJS.ProcessEnv;
  readonly rootfs: string;
  /** What `run`/`create` need: the image part (the overlay rootfs) and this instance's cgroup parent, no network. */
  readonly runFlags: string[];
  readonly imageArgs: string[] = [];

  /**
   * symlink: no wrapper, the runtime reached through a symlink named `box-runc` and left at its
   * default state root (/run/box-oci for box, /run/runc for runc): the set-up a user would make.
   */
  constructor(runtime: string, opts: { log?: boolean; ref?: string; symlink?: boolean } = {}) {
    // conmon's exit command (`podman container cleanup`) calls `delete --force <id>` with no
    // --root even under `--runtime-flag root=…`: the wrapper adds --root to every call instead.
    super('podman', runtime, opts.symlink
      ? { symlink: true, stateRoot: () => (path.basename(runtime) === 'runc' ? '/run/runc' : '/run/box-oci') }
      : { log: opts.log ?? true, rootArg: true, stateRoot: (d) => path.join(d, 'oci-state'), ref: opts.ref });
    const d = this.dir;
    this.rootfs = path.join(d, 'rootfs');
    for (const sub of ['root', 'runroot', 'tmp', 'net', 'rootfs']) fs.mkdirSync(path.join(d, sub));
    const tar = runSync('tar', ['-xzf', BUSYBOX_TAR, '-C', this.rootfs]);
    if (tar.status !== 0) throw new Error(`unpacking busybox: ${tar.stderr}`);
    fs.writeFileSync(path.join(d, 'containers.conf'), [
      '[containers]',
      // root here lacks CAP_SYS_RESOURCE and its hard nofile is 20000: podman's defaults are higher
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[network]',
      `network_config_dir = "${d}/net"`,
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${d}/events.log"`,
      `tmp_dir = "${d}/tmp"`,
      'lock_type = "file"', // the default shm lock is one host-wide segment (/dev/shm/libpod_lock)
      `static_dir = "${d}/root/libpod"`,
      `volume_path = "${d}/root/volumes"`,
      `conmon_path = ["${BIN.conmon}"]`,
      'runtime = "box"',
      // --log/--log-format=json go only to runtimes named here; box speaks runc's CLI
      'runtime_supports_json = ["crun", "runc", "box", "ref"]',
      '[engine.runtimes]',
      `box = ["${this.runtimePath}"]`,
      ...(this.refPath ? [`ref = ["${this.refPath}"]`] : []),
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(d, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${d}/root"\nrunroot = "${d}/runroot"\n`);
    this.env = { ...engineEnv(), CONTAINERS_CONF: path.join(d, 'containers.conf'), CONTAINERS_STORAGE_CONF: path.join(d, 'storage.conf'), CONTAINERS_REGISTRIES_CONF: path.join(d, 'registries.conf') };
    fs.writeFileSync(path.join(d, 'registries.conf'), 'unqualified-search-registries = []\n');
    this.runFlags = ['--network', 'none', `--cgroup-parent=${this.cgroupParent}`, '--rootfs', `${this.rootfs}:O`];
  }

  /** `podman <args>` on this instance. */
  cli(args: string[], opts: SpawnSyncOptions = {}): Result {
    return runSync(BIN.podman, args, { env: this.env, ...opts });
  }

  /** Start the engine process (podman has none: the config alone makes the instance). */
  async start(): Promise<this> { return this; }

  protected async shutdown() {
    this.cli(['rm', '--all', '--force', '--time', '0'], { timeout: 30000 }); // stuck ones are killed by PID below
  }
}

/**
 * A private dockerd 20.10 as CONTRACT.md describes it (own data/exec root, pidfile, socket, no
 * networking, overlay2, cgroupfs, its own cgroup parent), with the runtime added as `box`; it
 * starts its own containerd under the exec root. `/usr/bin/docker -H unix://…` is the client.
 */
export class Docker extends Engine {
  readonly sock: string;
  readonly runFlags: string[];
  readonly image = 'busybox:box';
  readonly imageArgs = [this.image];

  constructor(runtime: string, opts: { log?: boolean; ref?: string } = {}) {
    // the runc shim's --root for dockerd's containers: <exec-root>/runtime-runc/moby
    super('docker', runtime, { log: opts.log ?? true, stateRoot: (d) => path.join(d, 'exec', 'runtime-runc', 'moby'), ref: opts.ref });
    this.sock = path.join(this.dir, 'docker.sock');
    this.runFlags = ['--runtime', 'box', '--network', 'none'];
  }

  async start(): Promise<this> {
    const d = this.dir;
    // else dockerd 20.10 writes its trust key to /etc/docker/key.json (no command-line flag for it)
    fs.writeFileSync(path.join(d, 'daemon.json'), JSON.stringify({ 'deprecated-key-path': path.join(d, 'key.json') }));
    const p = this.startDaemon(BIN.dockerd, [
      '--config-file', path.join(d, 'daemon.json'), '--data-root', path.join(d, 'data'), '--exec-root', path.join(d, 'exec'),
      '--pidfile', path.join(d, 'docker.pid'), '--host', `unix://${this.sock}`,
      '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false', '--bridge=none',
      '--storage-driver=overlay2', '--exec-opt', 'native.cgroupdriver=cgroupfs', `--cgroup-parent=${this.cgroupParent}`,
      '--add-runtime', `box=${this.runtimePath}`, ...(this.refPath ? ['--add-runtime', `ref=${this.refPath}`] : []),
    ]);
    await waitFor('dockerd', () => fs.existsSync(this.sock) && this.cli(['version']).status === 0, p, () => this.daemonLog());
    const imp = this.cli(['import', BUSYBOX_TAR, this.image]);
    if (imp.status !== 0) throw new Error(`docker import: ${imp.stderr}`);
    return this;
  }

  cli(args: string[], opts: SpawnSyncOptions = {}): Result {
    return runSync(BIN.docker, ['-H', `unix://${this.sock}`, ...args], { env: { ...process.env, DOCKER_CONFIG: path.join(this.dir, 'client') }, ...opts });
  }

  protected async shutdown() {
    if (!this.daemons[0] || this.daemons[0].exitCode !== null) return;
    const ids = this.cli(['ps', '-aq'], { timeout: 20000 }).stdout.split('\n').filter(Boolean);
    if (ids.length) this.cli(['rm', '-f', ...ids], { timeout: 30000 }); // stuck ones are killed by PID below
  }
}

/**
 * A private containerd 1.6 (own config: root, state, gRPC/ttrpc/debug sockets in the temp dir;
 * the CRI plugin off unless `config` adds its section), driven by `ctr --address …`. Containers
 * run with `--runtime io.containerd.runc.v2 --runc-binary <runtime> --runc-root <state>`.
 */
export class Containerd extends Engine {
  readonly sock: string;
  readonly rootfs: string;
  readonly fifo: string;

  constructor(runtime: string, opts: { log?: boolean; config?: (dir: string, runtimePath: string) => string } = {}) {
    super('containerd', runtime, { log: opts.log ?? true, stateRoot: (d) => path.join(d, 'oci-state') });
    const d = this.dir;
    this.sock = path.join(d, 'containerd.sock');
    this.rootfs = path.join(d, 'rootfs');
    this.fifo = path.join(d, 'fifo');
    fs.mkdirSync(this.rootfs);
    const tar = runSync('tar', ['-xzf', BUSYBOX_TAR, '-C', this.rootfs]);
    if (tar.status !== 0) throw new Error(`unpacking busybox: ${tar.stderr}`);
    const extra = opts.config ? opts.config(d, this.runtimePath) : 'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n';
    fs.writeFileSync(path.join(d, 'config.toml'), [
      'version = 2', `root = "${d}/root"`, `state = "${d}/state"`, extra,
      '[grpc]', `  address = "${this.sock}"`, '[ttrpc]', `  address = "${this.sock}.ttrpc"`,
      '[debug]', `  address = "${d}/debug.sock"`, '[metrics]', '  address = ""', '',
    ].join('\n'));
  }

  async start(): Promise<this> {
    const p = this.startDaemon(BIN.containerd, ['--config', path.join(this.dir, 'config.toml')]);
    await waitFor('containerd', () => fs.existsSync(this.sock) && this.cli(['version']).status === 0, p, () => this.daemonLog());
    return this;
  }

  cli(args: string[], opts: SpawnSyncOptions = {}): Result {
    return runSync(BIN.ctr, ['--address', this.sock, ...args], opts);
  }

  /** `ctr run` flags for this instance: the runc shim pointed at the runtime, private state and fifos, our cgroup. */
  runFlags(id: string): string[] {
    return ['--runtime', 'io.containerd.runc.v2', '--runc-binary', this.runtimePath, '--runc-root', this.stateRoot,
      '--fifo-dir', this.fifo, '--cgroup', `${this.cgroupParent}/${id}`, '--rootfs', this.rootfs];
  }

  protected async shutdown() {
    if (!this.daemons[0] || this.daemons[0].exitCode !== null) return;
    for (const line of this.cli(['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
      this.cli(['task', 'kill', '-s', 'SIGKILL', line]);
      for (let i = 0; i < 50 && !/STOPPED/.test(this.cli(['task', 'ls']).stdout.split('\n').find((l) => l.startsWith(line + ' ')) || 'STOPPED'); i++) await sleep(100);
      this.cli(['task', 'rm', '-f', line]);
    }
    for (const c of this.cli(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) this.cli(['container', 'rm', c]);
  }
}

/**
 * One private engine for a whole suite: started before its first test, stopped after its last.
 * Every test skips, with the reason printed, when `why` names missing binaries; a set-up
 * failure fails every test with its message (uvu would otherwise report 0 of N and pass).
 */
export function engineSuite<E extends Engine & { start(): Promise<unknown> }>(test: any, why: string | undefined, make: () => E): { t: any; engine: () => E } {
  let eng: E | undefined;
  let setupError: Error | undefined;
  if (!why) test.before(async () => { try { eng = make(); await eng.start(); } catch (e) { setupError = e as Error; } });
  test.after(async () => { if (eng && fs.existsSync(eng.dir)) await eng.stop(); });
  return { t: needs(test, !why, why ?? ''), engine: () => { if (setupError) throw setupError; return eng!; } };
}
