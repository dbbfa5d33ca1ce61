// runc (and crun) on the same rootfs box runs as `busybox`: images/busybox.tar.gz unpacked once,
// one small bundle dir per container (its config.json only; the rootfs is shared, read-only),
// a private state root (never /run/runc), and cgroups under the benches' own absolute parent.
// cleanup() deletes every container this object created that its state root still knows; the
// cgroup dirs go with removeRuncCgroups(CG_PREFIX) once every runtime is cleaned up.
import { spawnSync, SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CG_PARENT } from './cleanup';

const REPO = path.resolve(__dirname, '..');
export const onPath = (cmd: string) => (process.env.PATH || '').split(':').some((d) => d && fs.existsSync(path.join(d, cmd)));
const sh = (cmd: string, args: string[], opts: SpawnSyncOptions = {}) => {
  const r = spawnSync(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
};

/** Unpack box's busybox image into `<tmp>/rootfs` (once per bench run) and return its path. */
export function busyboxRootfs(tmp: string): string {
  const rootfs = path.join(tmp, 'rootfs');
  if (fs.existsSync(rootfs)) return rootfs;
  fs.mkdirSync(rootfs, { recursive: true });
  const tar = sh('tar', ['-xzf', path.join(REPO, 'images/busybox.tar.gz'), '-C', rootfs]);
  if (tar.status !== 0) throw new Error(`extracting busybox.tar.gz failed: ${tar.stderr}`);
  return rootfs;
}

/** What every container id (and so cgroup dir) of this bench run starts with. */
export const CG_PREFIX = `box-bench-${process.pid}-`;

export class OciRuntime {
  readonly root: string;
  private readonly ids = new Set<string>();
  private base: any;
  // crun makes its default state dir even when given --root (`crun --version` does): removed at the end if it was not there before
  private readonly runDir: string;
  private readonly hadRunDir: boolean;

  /** bin: runc or crun; its state root and bundle dirs go under tmp. */
  constructor(readonly bin: 'runc' | 'crun', private readonly tmp: string) {
    this.root = path.join(tmp, `${bin}-state`);
    this.runDir = `/run/${bin}`;
    this.hadRunDir = fs.existsSync(this.runDir);
  }

  /** Why this runtime cannot run here, or '' (runs `<bin> spec` for the base config on the way). */
  unavailable(): string {
    if (!onPath(this.bin)) return `${this.bin} not on PATH (apt-get install ${this.bin})`;
    const dir = path.join(this.tmp, `${this.bin}-spec`);
    fs.mkdirSync(dir, { recursive: true });
    const r = sh(this.bin, ['spec'], { cwd: dir });
    if (r.status !== 0) return `${this.bin} spec failed: ${(r.stderr || '').trim()}`;
    this.base = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    return '';
  }

  /** A container id that cleanup() will delete; unique per bench run. */
  id(name: string): string {
    const id = `${CG_PREFIX}${this.bin}-${name}`;
    this.ids.add(id);
    return id;
  }

  /**
   * Write the bundle for container `id` running `args`, and return its dir. No terminal (a detached
   * container would need a console socket); the cgroup path is ABSOLUTE, under our own parent: a
   * relative one would nest under the caller's cgroup, and this shell sits in a memory cgroup owned
   * by the machine that we must not touch.
   */
  bundle(id: string, args: string[]): string {
    if (!this.base) throw new Error(`${this.bin}: call unavailable() first`);
    const dir = path.join(this.tmp, 'bundles', id);
    fs.mkdirSync(dir, { recursive: true });
    const config = structuredClone(this.base);
    config.process.args = args;
    config.process.terminal = false;
    config.root = { path: busyboxRootfs(this.tmp), readonly: true };
    config.linux.cgroupsPath = `/${CG_PARENT}/${id}`;
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    return dir;
  }

  /** `<bin> --root <private state> ...args`, as an argv for spawn. */
  argv(...args: string[]): string[] { return ['--root', this.root, ...args]; }

  /** Run one runtime command to completion (untimed set-up and teardown steps). */
  call(...args: string[]) { return sh(this.bin, this.argv(...args)); }

  /** The container's status from `<bin> state` ('' when the runtime no longer knows it). */
  status(id: string): string {
    const r = this.call('state', id);
    try { return r.status === 0 ? JSON.parse(r.stdout).status : ''; } catch { return ''; }
  }

  /** Delete every container we created that the state root still holds (and the default state dir the runtime made). */
  cleanup() {
    if (fs.existsSync(this.root)) for (const id of fs.readdirSync(this.root)) if (this.ids.has(id)) this.call('delete', '-f', id);
    if (!this.hadRunDir) try { fs.rmdirSync(this.runDir); } catch { /* not made, or in use by now */ }
  }
}
