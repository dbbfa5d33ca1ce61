import { ERRNO, errnoText } from './errno';

/**
 * One class object per name for every code part of ./box: `box run`'s small part and box's
 * code are separate bundles, each with a copy of this module, and a cold run's stage, spawned
 * by the first, fails into the second (lib/container/pool.ts spawnEarlyStage): `instanceof`
 * must hold across them. The first part to load defines each class.
 */
export function sharedClass<T>(name: string, define: () => T): T {
  const key = Symbol.for(`box.class.${name}`);
  return ((globalThis as any)[key] ??= define());
}

/** A failed libc call, named by the call and the thing it acted on: "mount /proc: EPERM (operation not permitted)". */
export const SysError = sharedClass('SysError', () => class SysError extends Error {
  code: string;
  constructor(readonly call: string, readonly errno: number, readonly target?: string) {
    super(`${call}${target ? ' ' + target : ''}: ${errnoText(errno)}`);
    this.code = ERRNO.get(errno)?.[0] ?? `E${errno}`;
  }
});
export type SysError = InstanceType<typeof SysError>;

/** An error of box's own making: printed as one line, exit status 125 unless given. */
export const BoxError = sharedClass('BoxError', () => class BoxError extends Error {
  constructor(message: string, readonly status = 125) {
    super(message);
  }
});
export type BoxError = InstanceType<typeof BoxError>;

/**
 * Docker's split of the CLI's own exit statuses: a wrong flag is 125 for every verb; a
 * missing or extra argument is 1 ("requires at least 1 argument"). box.ts maps the rest.
 */
export const FlagError = sharedClass('FlagError', () => class FlagError extends BoxError {
  constructor(message: string) { super(message, 125); }
});
export type FlagError = InstanceType<typeof FlagError>;
export const UsageError = sharedClass('UsageError', () => class UsageError extends BoxError {
  constructor(message: string) { super(message, 1); }
});
export type UsageError = InstanceType<typeof UsageError>;
