// The Container API's errors: one class, a `code` a library caller can switch on, the exit
// status the CLI uses, and a message that is already the one line the CLI prints.
import { BoxError, sharedClass } from '../libc/errors';

export type ContainerErrorCode =
  | 'not-found'     // no container by that name, id or prefix
  | 'ambiguous'     // an id prefix matching several
  | 'conflict'      // a name in use; removing a running container without force
  | 'not-running'   // exec, kill, pause… of a container that is not running
  | 'state'         // any other operation the container's state does not allow
  | 'invalid'       // bad input (a flag value, a profile)
  | 'permission'    // needs root
  | 'setup'         // the stage failed before the command ran (status 125, 126 or 127)
  | 'timeout';

/** Shared by box's code parts (lib/libc/errors.ts sharedClass): a cold run's stage fails into another part than the one that spawned it. */
export const ContainerError = sharedClass('ContainerError', () => class ContainerError extends BoxError {
  constructor(readonly code: ContainerErrorCode, message: string, status = 125) {
    super(message, status);
  }
});
export type ContainerError = InstanceType<typeof ContainerError>;
