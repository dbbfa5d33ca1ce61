// A detached container's output: Docker's json-file log (one JSON object per line: log,
// stream, time; log-lines.ts) in its directory. Without a terminal, the container writes into two
// FIFOs in its directory, not into pipes the supervisor alone holds: the container's fds
// are opened read-write, so the pipe always has a reader and a write never fails with
// EPIPE/SIGPIPE while no supervisor reads (it blocks once the pipe's buffer is full), and
// a new supervisor reopens them by path when it adopts the container. (A container can
// read back its own output through them: its own data, nothing else.)
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as libc from '../libc';
import { containerDir } from '../state/paths';
import { LineRecords } from './log-lines';

export const logFile = (id: string) => path.join(containerDir(id), `${id}-json.log`);
const STREAMS = ['stdout', 'stderr'] as const;
const fifo = (id: string, stream: string) => path.join(containerDir(id), `${stream}.fifo`);

export function openLog(id: string): number {
  return fs.openSync(logFile(id), 'a', 0o640);
}

/** Make the FIFOs; the container's ends (fds 1 and 2 of its stage), opened read-write. */
export function containerEnds(id: string): number[] {
  return STREAMS.map((s) => {
    libc.mkfifo(fifo(id, s), 0o600);
    return fs.openSync(fifo(id, s), fs.constants.O_RDWR);
  });
}

/** The supervisor's ends: a reader per stream (none if the container has a terminal or predates FIFOs). */
export function readers(id: string): [Readable, string][] {
  const out: [Readable, string][] = [];
  for (const s of STREAMS) {
    let fd: number;
    try { fd = fs.openSync(fifo(id, s), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK); } catch { continue; }
    out.push([new net.Socket({ fd, readable: true, writable: false }), s]);
  }
  return out;
}

/** Copy each source into the log until it ends (the container and everything it spawned closed it, or a pty's EIO). */
export function relay(sources: [Readable, string][], log: number): Promise<void>[] {
  return sources.map(([from, stream]) => new Promise<void>((done) => {
    const lines = new LineRecords();
    const write = (records: string[]) => {
      if (!records.length) return;
      const time = new Date().toISOString();
      fs.writeSync(log, records.map((r) => JSON.stringify({ log: r, stream, time }) + '\n').join(''));
    };
    let ended = false;
    const end = () => { if (!ended) { ended = true; write(lines.end()); done(); } };
    from.on('data', (d: Buffer) => write(lines.push(d)));
    from.on('error', end);
    from.on('close', end);
  }));
}
