// The multiplexed procview server (lib/procview/mux.ts) without root or /dev/fuse: each
// "connection" is a SOCK_SEQPACKET socket (one message per read and write, as /dev/fuse) and
// this test plays the kernel. What a file-root connection answers, the budgets shared across
// connections, one request per connection per round, and a connection's end.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { socketPair } from '../../lib/libc/fdpass';
import { ViewMux, respond, CLAIMED_SIZE, Conn } from '../../lib/procview/mux';
import { OpenFiles, MAX_HANDLES_PER_NS } from '../../lib/procview/open-files';
import * as P from '../../lib/procview/protocol';

let unique = 1n;
function req(opcode: number, nodeid: bigint, body: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(P.IN_HEADER + body.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt32LE(opcode, 4);
  b.writeBigUInt64LE(unique++, 8);
  b.writeBigUInt64LE(nodeid, 16);
  b.writeUInt32LE(4242, 32); // a pid of the container's namespace: never used
  body.copy(b, P.IN_HEADER);
  return b;
}
const initIn = () => { const b = Buffer.alloc(64); b.writeUInt32LE(7, 0); b.writeUInt32LE(31, 4); b.writeUInt32LE(131072, 8); return b; };
const openIn = (flags: number) => { const b = Buffer.alloc(8); b.writeUInt32LE(flags, 0); return b; };
const readIn = (fh: bigint, offset = 0n, size = 4096) => { const b = Buffer.alloc(40); b.writeBigUInt64LE(fh, 0); b.writeBigUInt64LE(offset, 8); b.writeUInt32LE(size, 16); return b; };
const err = (r?: Buffer) => -r!.readInt32LE(4);
const body = (r?: Buffer) => r!.subarray(P.OUT_HEADER);

const rendered: [string, number][] = [];
const render = (kind: string, pid: number) => { rendered.push([kind, pid]); return `${kind} of ${pid}\n`; };
const conn = (fd: number, owner = 'c1', kind: any = 'meminfo'): Conn => ({ fd, kind, pid: () => 777, owner, ready: false, requests: 0 });
const ask = (c: Conn, files: OpenFiles, b: Buffer) => respond(c, files, b, b.length, 0);

test('a file-root connection: the root is the file; no names; read-only; the container\'s PID 1 renders, never the request\'s pid', () => {
  const files = new OpenFiles(render);
  const c = conn(10);
  assert.is(err(ask(c, files, req(P.OP.GETATTR, 1n)).reply), P.E.IO, 'nothing before INIT');
  assert.is(err(ask(c, files, req(P.OP.INIT, 0n, initIn())).reply), 0);
  const attr = body(ask(c, files, req(P.OP.GETATTR, 1n)).reply);
  assert.is(attr.readUInt32LE(16 + 60), P.S_IFREG | 0o444, 'a regular file, 0444');
  assert.is(Number(attr.readBigUInt64LE(16 + 8)), CLAIMED_SIZE, 'a size sendfile can read up to');
  assert.is(err(ask(c, files, req(P.OP.LOOKUP, 1n, Buffer.from('x\0'))).reply), P.E.NOTDIR);
  assert.is(err(ask(c, files, req(P.OP.OPENDIR, 1n)).reply), P.E.NOTDIR);
  assert.is(err(ask(c, files, req(P.OP.GETATTR, 2n)).reply), P.E.NOENT, 'no other node');
  assert.is(err(ask(c, files, req(P.OP.OPEN, 1n, openIn(1))).reply), P.E.ROFS, 'O_WRONLY');
  assert.is(err(ask(c, files, req(P.OP.OPEN, 1n, openIn(0o1000))).reply), P.E.ROFS, 'O_TRUNC');
  const open = ask(c, files, req(P.OP.OPEN, 1n, openIn(0)));
  assert.is(err(open.reply), 0);
  assert.ok(open.notify, 'the size raised again before the answer');
  assert.is(open.notify!.readInt32LE(4), 4, 'FUSE_NOTIFY_STORE');
  const fh = body(open.reply).readBigUInt64LE(0);
  assert.is(body(ask(c, files, req(P.OP.READ, 1n, readIn(fh))).reply).toString(), 'meminfo of 777\n');
  assert.equal(rendered.pop(), ['meminfo', 777]);
  const c2 = conn(11);
  ask(c2, files, req(P.OP.INIT, 0n, initIn()));
  assert.is(err(ask(c2, files, req(P.OP.READ, 1n, readIn(fh))).reply), P.E.BADF, 'another connection\'s handle');
  assert.is(ask(c, files, req(P.OP.FORGET, 1n)).reply, undefined);
  assert.is(err(ask(c, files, req(P.OP.RELEASE, 1n, readIn(fh))).reply), 0);
  assert.is(files.size, 0);
});

test('open files are budgeted per container across its connections', () => {
  const files = new OpenFiles(render);
  const a = conn(20, 'c1'), b = conn(21, 'c1', 'cpuinfo'), other = conn(22, 'c2');
  for (const c of [a, b, other]) ask(c, files, req(P.OP.INIT, 0n, initIn()));
  for (let i = 0; i < MAX_HANDLES_PER_NS; i++) assert.is(err(ask(i % 2 ? a : b, files, req(P.OP.OPEN, 1n, openIn(0))).reply), 0);
  assert.is(err(ask(a, files, req(P.OP.OPEN, 1n, openIn(0))).reply), P.E.NFILE);
  assert.is(err(ask(b, files, req(P.OP.OPEN, 1n, openIn(0))).reply), P.E.NFILE);
  assert.is(err(ask(other, files, req(P.OP.OPEN, 1n, openIn(0))).reply), 0, 'another container is not held by it');
  files.dropConnection(a.fd);
  assert.is(err(ask(a, files, req(P.OP.OPEN, 1n, openIn(0))).reply), 0, 'a connection\'s end gives its handles back');
});

test('one poll for every connection, one request per connection per round; a connection that ends is closed', async () => {
  const mux = new ViewMux({ render });
  const [flood, floodK] = socketPair();
  const [calm, calmK] = socketPair();
  let gone = 0;
  mux.add(flood, 'stat', { pid: () => 1, owner: 'a' }, () => gone++);
  mux.add(calm, 'uptime', { pid: () => 2, owner: 'b' });
  for (const k of [floodK, calmK]) fs.writeSync(k, req(P.OP.INIT, 0n, initIn()));
  for (let i = 0; i < 20; i++) fs.writeSync(floodK, req(P.OP.GETATTR, 1n));
  fs.writeSync(calmK, req(P.OP.GETATTR, 1n));
  fs.writeSync(calmK, req(P.OP.GETATTR, 1n));
  // the calm connection's two requests are answered within two rounds of the flood's start
  const seen: Buffer[] = [];
  const start = Date.now();
  while (seen.length < 3 && Date.now() - start < 5000) {
    await new Promise((r) => setImmediate(r));
    seen.push(...replies2(calmK));
  }
  assert.is(seen.length, 3, 'INIT and both GETATTRs answered');
  const floodDone = mux.requests.total - 3;
  assert.ok(floodDone <= 4, `the flood got its turn, not the server (${floodDone} of 21 answered meanwhile)`);
  // the flood is answered to its end
  await new Promise((r) => setTimeout(r, 300));
  assert.is(replies2(floodK).length, 21, 'every request of the flood answered in the end');
  assert.is(mux.requests.total, 24);
  // the "kernel" ends the flood's connection: POLLHUP, closed, onGone
  fs.closeSync(floodK);
  const t0 = Date.now();
  while (gone === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
  assert.is(gone, 1);
  assert.is(mux.size, 1);
  mux.close();
  fs.closeSync(calmK);
});

function replies2(fd: number): Buffer[] {
  const out: Buffer[] = [];
  const b = Buffer.alloc(65536);
  // non-blocking peek: MSG_DONTWAIT is not reachable from fs; poll with a zero timeout instead
  for (;;) {
    const pfd = Buffer.alloc(8); pfd.writeInt32LE(fd, 0); pfd.writeInt16LE(1, 4);
    const r = require('../../lib/libc/core').func('int poll(void *fds, unsigned long nfds, int timeout)')(pfd, 1, 0);
    if (r <= 0 || !(pfd.readInt16LE(6) & 1)) return out;
    const n = fs.readSync(fd, b);
    out.push(Buffer.from(b.subarray(0, n)));
  }
}

test.run();
