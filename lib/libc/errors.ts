import * as util from 'node:util';

/** A failed libc call, named by the call and the thing it acted on: "mount /proc: EPERM (operation not permitted)". */
export class SysError extends Error {
  constructor(readonly call: string, readonly errno: number, readonly target?: string) {
    const [name, msg] = util.getSystemErrorMap().get(-errno) ?? [`E${errno}`, 'unknown error'];
    super(`${call}${target ? ' ' + target : ''}: ${name} (${msg})`);
    this.code = name;
  }
  code: string;
}

/** An error of box's own making: printed as one line, exit status 125 unless given. */
export class BoxError extends Error {
  constructor(message: string, readonly status = 125) {
    super(message);
  }
}
