// An OCI verb's failure: one message, which the CLI writes as runc does — a JSON (or text)
// line in --log and the message on stderr — with exit status 1.
import { BoxError } from '../libc/errors';

export class OciError extends BoxError {
  constructor(message: string, readonly code: 'invalid' | 'not-found' | 'state' | 'setup' = 'invalid') {
    super(message, 1);
  }
}
