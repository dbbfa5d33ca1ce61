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
import { load } from '../state/store';
import { LineRecords } from './log-lines';
import { logFile, rotate } from './log-files';
import type { LogConfig } from '../options/types';
import { sourceOpened, sourceClosed, output } from './attach';

export { logFile };
const STREAMS = ['stdout', 'stderr'] as const;
const fifo = (id: string, stream: string) => path.join(containerDir(id), `${stream}.fifo`);

/**
 * Where relay() writes: the log's fd (the caller closes it). With --log-driver none, /dev/null
 * and no log file; with max-size, relay writes through a rotating writer kept for this fd.
 */
export function openLog(id: string, config: LogConfig | undefined = load(id)?.spec.log): number {
  if (config?.type === 'none') return fs.openSync('/dev/null', 'a');
  const fd = fs.openSync(logFile(id), 'a', 0o640);
  if (config?.maxSize) writers.set(fd, new Rotating(logFile(id), fd, config.maxSize, config.maxFile ?? 1));
  return fd;
}

const writers = new Map<number, Rotating>();

/**
 * Docker's json-file with max-size: before a record is written, a file that reached max-size
 * is rotated (so a file ends at most one record over it). The caller's fd is never closed
 * here (it closes it itself); the files opened after a rotation are this writer's own.
 */
class Rotating {
  private fd: number;
  private size: number;
  private own?: number;
  users = 0;
  constructor(private readonly file: string, fd: number, private readonly max: number, private readonly maxFile: number) {
    this.fd = fd;
    this.size = fs.fstatSync(fd).size;
  }
  write(record: string) {
    if (this.size >= this.max) {
      rotate(this.file, this.maxFile);
      const fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o640);
      if (this.own !== undefined) fs.closeSync(this.own);
      this.fd = this.own = fd;
      this.size = 0;
    }
    this.size += fs.writeSync(this.fd, record);
  }
  close() {
    if (this.own !== undefined) fs.closeSync(this.own);
    this.own = undefined;
  }
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
    const sock = new net.Socket({ fd, readable: true, writable: false });
    owners.set(sock, id);
    out.push([sock, s]);
  }
  return out;
}

/** Whose output a reader carries: relay() passes it on to `box attach` clients (attach.ts). */
const owners = new WeakMap<Readable, string>();

/**
 * Copy each source into the log until it ends (the container and everything it spawned closed
 * it, or a pty's EIO), and to the clients attached to container `id` (readers() tags its own).
 */
export function relay(sources: [Readable, string][], log: number, id?: string): Promise<void>[] {
  const rotating = writers.get(log);
  if (rotating) rotating.users += sources.length;
  if (rotating && !rotating.users) { rotating.close(); writers.delete(log); }
  return sources.map(([from, stream]) => new Promise<void>((done) => {
    const owner = id ?? owners.get(from);
    if (owner) sourceOpened(owner);
    const lines = new LineRecords();
    const write = (records: string[]) => {
      if (!records.length) return;
      const time = new Date().toISOString();
      const json = records.map((r) => JSON.stringify({ log: r, stream, time }) + '\n');
      if (rotating) for (const j of json) rotating.write(j);
      else fs.writeSync(log, json.join(''));
    };
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      write(lines.end());
      if (rotating && --rotating.users === 0) { rotating.close(); writers.delete(log); }
      if (owner) sourceClosed(owner);
      done();
    };
    from.on('data', (d: Buffer) => { write(lines.push(d)); if (owner) output(owner, stream, d); });
    from.on('error', end);
    from.on('close', end);
  }));
}
