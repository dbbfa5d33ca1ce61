// The shared core of every libc binding: libc loaded once through koffi, functions declared
// on first use (`box ps` should not pay for `execve`), failures turned into SysError, and
// the per-architecture syscall table. The typed wrappers live beside this file, one per
// concern (index.ts: processes, mounts, ttys; paths.ts, exe.ts, …); callers import them.
import { koffi } from './native';
import { SysError } from './errors';
import { SYS, Syscalls } from './constants';

const fns = new Map<string, (...a: any[]) => any>();
let lib: any;

/** A libc function from its C declaration, declared once and cached. */
export function func(decl: string): (...a: any[]) => any {
  let f = fns.get(decl);
  if (!f) {
    lib ??= koffi().load('libc.so.6');
    f = lib.func(decl);
    fns.set(decl, f!);
  }
  return f!;
}

/** Throw SysError (errno read right after the call) when a libc return value is negative. */
export function check(r: number | bigint, call: string, target?: string): number {
  const n = Number(r);
  if (n < 0) throw new SysError(call, koffi().errno(), target);
  return n;
}

export const errno = (): number => koffi().errno();

/** This architecture's syscall numbers. */
export function sys(): Syscalls {
  return SYS[process.arch] ?? (() => { throw new Error(`no syscall table for ${process.arch}`); })();
}

/** `long syscall(long number, ...)`: arguments as (type, value) pairs, as koffi wants for variadics. */
export const syscall = (nr: number, ...args: any[]): number => Number(func('long syscall(long number, ...)')(nr, ...args));

/**
 * BOX_OLD_KERNEL=1: act as on a kernel without the syscalls newer than EL8's 4.18 that box
 * prefers (openat2, open_tree, mount_setattr), so the tests run the fallbacks here too.
 */
export const pretendOldKernel = (): boolean => process.env.BOX_OLD_KERNEL === '1';
