import { ERRNO, errnoText } from './errno';

/** A failed libc call, named by the call and the thing it acted on: "mount /proc: EPERM (operation not permitted)". */
export class SysError extends Error {
  constructor(readonly call: string, readonly errno: number, readonly target?: string) {
    super(`${call}${target ? ' ' + target : ''}: ${errnoText(errno)}`);
    this.code = ERRNO.get(errno)?.[0] ?? `E${errno}`;
  }
  code: string;
}

/** An error of box's own making: printed as one line, exit status 125 unless given. */
export class BoxError extends Error {
  constructor(message: string, readonly status = 125) {
    super(message);
  }
}

/**
 * Docker's split of the CLI's own exit statuses: a wrong flag is 125 for every verb; a
 * missing or extra argument is 1 ("requires at least 1 argument"). box.ts maps the rest.
 */
export class FlagError extends BoxError {
  constructor(message: string) { super(message, 125); }
}
export class UsageError extends BoxError {
  constructor(message: string) { super(message, 1); }
}
