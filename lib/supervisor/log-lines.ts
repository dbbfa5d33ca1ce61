// Output → json-file records as Docker writes them: one record per line (the newline kept
// in it), so that `logs --tail N` and `logs -t` count and stamp lines, not write bursts;
// UTF-8 decoded across reads (a character split between two reads stays one character); a
// line longer than MAX_RECORD is cut into records of that size, as Docker's 16 KiB buffer
// does; what is left without a newline when the stream ends is the last record.
import { StringDecoder } from 'node:string_decoder';

export const MAX_RECORD = 16 * 1024;

export class LineRecords {
  private decoder = new StringDecoder('utf8');
  private pending = '';

  /** The records complete after this chunk. */
  push(chunk: Buffer): string[] {
    return this.take(this.pending + this.decoder.write(chunk));
  }

  /** The rest, once the stream has ended. */
  end(): string[] {
    const rest = this.take(this.pending + this.decoder.end());
    if (this.pending) rest.push(this.pending);
    this.pending = '';
    return rest;
  }

  private take(text: string): string[] {
    const out: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      for (; nl + 1 - start > MAX_RECORD; start += MAX_RECORD) out.push(text.slice(start, start + MAX_RECORD));
      out.push(text.slice(start, nl + 1));
      start = nl + 1;
    }
    for (; text.length - start >= MAX_RECORD; start += MAX_RECORD) out.push(text.slice(start, start + MAX_RECORD));
    this.pending = text.slice(start);
    return out;
  }
}
