// A recording fake of the syscall seam (lib/libc/seam.ts): every call is recorded with its
// arguments, and answered with a harmless default or what a test scripted. The real mount
// executor and stage code run against it, as any user, without touching the machine.
//  - fds it hands out start at 10000, so a call that escaped the seam and used one on the real
//    process would fail with EBADF rather than hit one of the test runner's own fds;
//  - each fd remembers what it was opened on: `/proc/self/fd/N` targets are shown resolved;
//  - fd 3 (the stage channel) reads the messages queued in `channel`, one per read, and what
//    the stage writes to it is decoded back into `sent`;
//  - a successful execve/execveat, exit or _exit throws `Gone` (the process is replaced or
//    ends there), kept in `end`; nothing after it is recorded, as nothing after it would happen.
import { EventEmitter } from 'node:events';
import type { Stats } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { Libc, useLibc } from '../../lib/libc/seam';

export interface Call { name: keyof Libc; args: any[]; result?: any }

/** The process ended or was replaced: by `how` (exit, exitNow, execve, execveatFd). */
export class Gone extends Error {
  constructor(readonly how: string, readonly status?: number) { super(`${how}${status === undefined ? '' : ` ${status}`}`); }
}

interface StatsLike { type?: 'file' | 'dir' | 'chr' | 'fifo' | 'socket' | 'link'; mode?: number; ino?: number; rdev?: number; uid?: number; size?: number }

/** An fs.Stats good enough for the code under test: type predicates and a few numbers. */
export function fakeStats(s: StatsLike = {}): Stats {
  const type = s.type ?? 'file';
  return {
    ino: s.ino ?? 1, mode: s.mode ?? 0o755, rdev: s.rdev ?? 0, uid: s.uid ?? 0, gid: 0, size: s.size ?? 0,
    isFile: () => type === 'file', isDirectory: () => type === 'dir', isCharacterDevice: () => type === 'chr',
    isFIFO: () => type === 'fifo', isSocket: () => type === 'socket', isSymbolicLink: () => type === 'link', isBlockDevice: () => false,
  } as unknown as Stats;
}

const CHANNEL_FD = 3;

export class FakeLibc {
  readonly calls: Call[] = [];
  /** Messages the stage reads on fd 3, in order; none left reads as EOF. */
  readonly channel: object[] = [];
  /** Messages the stage wrote on fd 3. */
  readonly sent: any[] = [];
  /** What each fd this fake made was opened on. */
  readonly opened = new Map<number, string>();
  /** readFile's answers by path (others: ENOENT). */
  readonly files = new Map<string, string>([['/proc/sys/kernel/cap_last_cap', '40\n'], ['/proc/self/mountinfo', '']]);
  /** stat's answers by path (others: an executable regular file); fstat's by the path an fd was opened on. */
  readonly stats = new Map<string, Stats>();
  /** The calling thread's capability sets (capGet answers them, capSet replaces them): root's, every capability up to 40. */
  caps = { effective: (1n << 41n) - 1n, permitted: (1n << 41n) - 1n, inheritable: 0n };
  /** getrlimit's answers by resource (others: soft 1024, hard 20000, this machine's nofile); setrlimit records here. */
  readonly rlimits = new Map<number, { soft: bigint; hard: bigint }>();
  /** Overrides, by call: return another result or throw (the call is recorded first). */
  readonly script: Partial<Libc> = {};
  readonly libc: Libc;
  /** How the process ended: the first exit or successful exec (what the code does after it is the fake's artefact). */
  end?: Gone;
  private nextFd = 10000;
  private prev?: Libc;

  constructor() {
    const fd = (what: string) => { const n = this.nextFd++; this.opened.set(n, what); return n; };
    const under = this.under.bind(this);
    const gone = (how: string, status?: number): never => { throw (this.end ??= new Gone(how, status)); };
    const defaults: Libc = {
      unshare: () => {}, setns: () => {}, mount: () => {}, umount2: () => {}, mountSetattr: () => {},
      pivotRoot: () => {}, chroot: () => {}, chdir: () => {}, sethostname: () => {}, setdomainname: () => {}, loopbackUp: () => {},
      openat: (dirfd, p) => fd(under(dirfd, p)),
      openat2: (dirfd, p) => fd(under(dirfd, p)),
      mkdirat: () => {}, readlinkat: () => '', symlinkat: () => {}, mknodat: () => {},
      open: (p) => fd(p),
      close: () => {},
      read: (n, buf) => {
        if (n !== CHANNEL_FD) return 0;
        const m = this.channel.shift();
        return m === undefined ? 0 : buf.write(JSON.stringify(m) + '\n');
      },
      write: (n, data, off = 0) => {
        const text = typeof data === 'string' ? data : data.subarray(off).toString();
        if (n === CHANNEL_FD) for (const line of text.split('\n').filter(Boolean)) this.sent.push(JSON.parse(line));
        return typeof data === 'string' ? Buffer.byteLength(data) : data.length - off;
      },
      readFile: (p) => {
        const t = this.files.get(p);
        if (t === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT', errno: -2 });
        return t;
      },
      writeFile: () => {},
      stat: (p) => this.stats.get(p) ?? fakeStats(),
      fstat: (n) => this.stats.get(this.opened.get(n) ?? '') ?? fakeStats({ type: 'chr' }),
      exists: () => true, readlink: () => '', mkdir: () => {}, chmod: () => {}, chown: () => {}, fchown: () => {},
      dup2: (_from, to) => to, setCloexec: () => {}, setBlocking: () => {}, closeRangeCloexec: () => {},
      socketPair: () => [fd('socket (box)'), fd('socket (stage)')],
      sendFd: () => {},
      recvFd: (sock) => fd(`fd received on ${sock}`),
      setsid: () => 1, setControllingTty: () => {},
      openPtyInside: () => ({ master: fd('/dev/pts/ptmx'), slave: fd('/dev/pts/0'), index: 0 }),
      prctl: () => 0, limitCapabilities: () => {}, setIds: () => {}, setNoNewPrivs: () => {},
      capGet: () => ({ ...this.caps }), capSet: (s) => { this.caps = { ...s }; },
      getrlimit: (r) => ({ ...(this.rlimits.get(r) ?? { soft: 1024n, hard: 20000n }) }),
      setrlimit: (r, soft, hard) => { this.rlimits.set(r, { soft, hard }); },
      umask: () => 0o022,
      loadSeccomp: () => 0, joinNewSessionKeyring: () => {}, resetSignals: () => {},
      readOnlyClone: (f) => fd(`${f} (read-only clone)`),
      sealedExecutable: (name) => fd(`memfd:${name}`),
      execve: () => gone('execve'),
      execveatFd: () => gone('execveatFd'),
      spawn: () => Object.assign(new EventEmitter(), { pid: 4243, kill: () => true }) as unknown as ChildProcess,
      exit: (status) => gone('exit', status),
      exitNow: (status) => gone('exitNow', status),
    };
    const recorded: any = {};
    for (const name of Object.keys(defaults) as (keyof Libc)[]) {
      recorded[name] = (...args: any[]) => {
        const call: Call | undefined = this.end ? undefined : { name, args };
        if (call) this.calls.push(call);
        const impl: any = this.script[name] ?? defaults[name];
        const result = impl(...args);
        if (call) call.result = result;
        return result;
      };
    }
    this.libc = recorded as Libc;
  }

  /** Make this fake the process's libc until restore(). */
  install(): this {
    this.prev = useLibc(this.libc);
    return this;
  }
  restore() {
    if (this.prev) useLibc(this.prev);
    this.prev = undefined;
  }

  /** `p` relative to what `dirfd` was opened on. */
  under(dirfd: number, p: string): string {
    return this.opened.has(dirfd) ? `${this.opened.get(dirfd)!.replace(/\/$/, '')}/${p.replace(/^\//, '')}` : p;
  }

  /** A mount target as the code meant it: `/proc/self/fd/N` shown as what N was opened on. */
  resolve(target: string): string {
    const m = /^\/proc\/self\/fd\/(\d+)(\/.*)?$/.exec(target);
    return m && this.opened.has(Number(m[1])) ? this.opened.get(Number(m[1]))! + (m[2] ?? '') : target;
  }

  /** One line per call, for order assertions and readable failures: "mount proc /c/merged/proc". */
  trace(): string[] {
    return this.calls.map((c) => describe(c, this));
  }
}

function describe(c: Call, f: FakeLibc): string {
  const a = c.args;
  switch (c.name) {
    case 'mount': return `mount ${a[0] === null ? '-' : f.resolve(a[0])} ${f.resolve(a[1])}${a[2] ? ` ${a[2]}` : ''}`;
    case 'umount2': case 'chdir': case 'chroot': case 'stat': case 'exists': case 'readFile': case 'writeFile': case 'sethostname':
      return `${c.name} ${a[0]}`;
    case 'open': return `open ${a[0]}`;
    case 'openat': case 'openat2': return `${c.name} ${c.result === undefined ? a[1] : f.opened.get(c.result)}`;
    case 'close': return `close ${f.opened.get(a[0]) ?? a[0]}`;
    case 'write': return `write ${f.opened.get(a[0]) ?? a[0]} ${typeof a[1] === 'string' ? a[1] : a[1].subarray(a[2] ?? 0).toString().trim()}`;
    case 'read': return `read ${f.opened.get(a[0]) ?? a[0]}`;
    case 'setns': return `setns ${a[2] ?? f.opened.get(a[0])}`;
    case 'unshare': case 'prctl': case 'setrlimit': case 'umask': case 'setdomainname': return `${c.name} ${a.slice(0, 3).join(' ')}`;
    case 'capSet': return `capSet e=${a[0].effective.toString(16)} p=${a[0].permitted.toString(16)} i=${a[0].inheritable.toString(16)}`;
    case 'pivotRoot': return `pivotRoot ${a[0]} ${a[1]}`;
    case 'mknodat': case 'mkdirat': return `${c.name} ${f.under(a[0], a[1])}`;
    case 'symlinkat': return `symlinkat ${f.under(a[1], a[2])}`;
    case 'chmod': return `chmod ${f.resolve(a[0])}`;
    case 'mountSetattr': return `mountSetattr ${f.opened.get(a[0]) ?? a[0]}`;
    case 'execve': case 'spawn': return `${c.name} ${a[0]}`;
    default: return c.name;
  }
}
