// The host end of one stage (lib/inside/): started by launch.ts, spoken to over the stage
// protocol (lib/inside/protocol.ts). `box run`, the supervisor and `box exec` drive a stage
// the same way — config → "ready" (with the pty master the stage opened inside) → [start]
// → a seccomp listener forwarded on the way → EOF or "started" → exit — so that sequence,
// its failure handling and the final flush of the relays live here, once.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { ChildProcess, StdioOptions } from 'node:child_process';
import { spawnStage, SpawnOptions } from './launch';
import { exitStatus } from './exit';
import { ContainerError } from './errors';
import { Channel } from '../inside/protocol';
import { receivePty, Pty } from '../terminal/tty';
import { recvFd, sendFd } from '../libc/fdpass';
import { forwardListener } from '../seccomp/listener';
import { serveSysinfo } from '../procview/sysinfo-host';
import { SeccompFilter } from '../seccomp';
import { stdioPlan, handOver } from './handoff';

/** How the user's side is wired to a container's process: `box run`, the supervisor's log, `box exec`, a library caller. */
export interface IO {
  stdio: StdioOptions;                                  // the stage's fds 0–2; fd 3 is the channel
  onSpawn?(child: ChildProcess): void;                  // e.g. start forwarding signals to it
  attach(child: ChildProcess, pty: Pty | undefined): Promise<void>[]; // relays that end when the container's output does
}

export class Stage {
  readonly child: ChildProcess;
  readonly exited: Promise<number>;
  pty?: Pty;
  private ptyTaken = false;                              // a relay owns the master now (and closes it)
  private readonly chan: Channel;
  private readonly fdSock: number;

  /**
   * `lateStdio`: spawned with /dev/null on 0–2 before its container was known (a pooled
   * `__init`, lib/container/pool.ts); takeStdio hands it the container's.
   */
  constructor(verb: '__init' | '__exec', private readonly what: string, stdio: StdioOptions, opts: SpawnOptions, readonly lateStdio = false) {
    const { child, fdSock } = spawnStage(verb, stdio, opts);
    this.child = child;
    this.fdSock = fdSock;
    this.exited = new Promise((resolve) => child.on('exit', (c, s) => resolve(exitStatus(c, s))));
    this.chan = new Channel(child.stdio[3] as Duplex);
  }

  send(m: object) { this.chan.send(m); }

  /** A pooled stage: queue the container's stdio on the fd socket (before the config that lists it); the targets, for StageConfig.stdio. */
  takeStdio(stdio: StdioOptions): number[] | undefined {
    return this.lateStdio ? handOver(stdioPlan(stdio), this.fdSock, this.child) : undefined;
  }

  /** Queue fds on the fd socket for the stage (the /proc view's, after the stdio, before the config that lists them); they stay this process's too. */
  sendFds(fds: number[]) {
    for (const fd of fds) sendFd(this.fdSock, fd);
  }

  /** Whether this stage keeps its owner's event loop alive: an idle pooled one must not. */
  hold(on: boolean) {
    const chan = this.child.stdio[3] as net.Socket;
    if (on) { this.child.ref(); chan.ref(); } else { this.child.unref(); chan.unref(); }
  }

  /**
   * The next message; a seccomp listener fd announced on the way is passed to the profile's
   * agent first, and box's sysinfo listener to this process's handler (sysinfo-host.ts), which
   * serves it until this stage exits (the container's PID 1, or the exec'd command).
   */
  async next(filter: SeccompFilter | undefined, c: { id: string; status: string }): Promise<any> {
    for (;;) {
      const msg = await this.chan.next();
      if (msg?.sysinfoListener) { this.takeSysinfo(); continue; }
      if (!msg?.seccompListener) return msg;
      const error = forwardListener(this.fdSock, filter, this.child, c);
      if (error) throw await this.failure({ error });
    }
  }

  /**
   * Serve the stage's sysinfo listener here. If this process dies first, the container's sysinfo
   * fails with ENOSYS from then on, for good, and the container runs on (sysinfo-host.ts).
   */
  private takeSysinfo() {
    const release = serveSysinfo(recvFd(this.fdSock)); // close-on-exec: no later stage inherits it
    this.exited.then(release);
  }

  /** Wait for "ready"; take the pty master the stage opened inside the container, if any (and a pooled stage's namespaces, sent while it waited). */
  async ready(): Promise<void> {
    let msg = await this.chan.next();
    for (; msg?.namespaces && !msg.ready; msg = await this.chan.next()) this.takeNamespaces(msg.namespaces);
    if (!msg?.ready) throw await this.failure(msg);
    if (msg.pty !== undefined) this.pty = receivePty(this.fdSock, msg.pty);
  }

  /** Wire the user's side: the relays, which then own the pty master. */
  attach(io: IO): Promise<void>[] {
    this.ptyTaken = !!this.pty;
    return io.attach(this.child, this.pty);
  }

  /** The container's namespaces reported so far (inode numbers), and this process's fd on each (the stage's to close until taken). */
  readonly namespaces: Record<string, number> = {};
  private namespaceFds: Record<string, number> = {};

  /** The fds on the namespaces, now the caller's (the container's record holds them while it lives). */
  takeNamespaceFds(): Record<string, number> {
    const fds = this.namespaceFds;
    this.namespaceFds = {};
    return fds;
  }

  /** A {namespaces} message: each one's fd follows on the fd socket, in the message's order. */
  takeNamespaces(ns: Record<string, number>) {
    for (const [n, ino] of Object.entries(ns)) {
      this.namespaces[n] = ino;
      this.namespaceFds[n] = recvFd(this.fdSock);
    }
  }

  /** The stage's own error (it exits right after sending it), or what its exit status says. */
  async failure(msg: any): Promise<ContainerError> {
    const status = await this.exited;
    const text: string = msg?.error ?? `${this.what} failed (stage exited with status ${status})`;
    return new ContainerError('setup', /^box[ :]/.test(text) ? text : `box: ${text}`, msg?.status ?? 125);
  }

  /** After the process exited: what it wrote last may still be in flight; the relays get 2 s to deliver it. */
  static async drain(relays: Promise<void>[]) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(relays), new Promise((r) => { timer = setTimeout(r, 2000); })]);
    clearTimeout(timer);
  }

  close() {
    for (const fd of Object.values(this.namespaceFds)) fs.closeSync(fd); // a run that failed before it took them
    this.namespaceFds = {};
    fs.closeSync(this.fdSock);
    if (this.pty && !this.ptyTaken) fs.closeSync(this.pty.master);
  }
}
