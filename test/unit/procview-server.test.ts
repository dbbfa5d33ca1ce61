// The procview server's request handling, without root or /dev/fuse: the server reads and
// answers a SOCK_SEQPACKET socket (one message per read and per write, as /dev/fuse gives),
// and this test plays the kernel — and a hostile container's requests.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { socketPair } from '../../lib/libc/fdpass';
import { readAsync } from '../../lib/libc/fuse';
import { ProcViewServer } from '../../lib/procview/server';
import { MAX_KEPT_BYTES_PER_NS } from '../../lib/procview/open-files';
import * as P from '../../lib/procview/protocol';

let unique = 100n;
function req(opcode: number, nodeid: bigint, body: Buffer = Buffer.alloc(0), opts: { pid?: number; len?: number } = {}): { buf: Buffer; unique: bigint } {
  const b = Buffer.alloc(P.IN_HEADER + body.length);
  const u = unique++;
  b.writeUInt32LE(opts.len ?? b.length, 0);
  b.writeUInt32LE(opcode, 4);
  b.writeBigUInt64LE(u, 8);
  b.writeBigUInt64LE(nodeid, 16);
  b.writeUInt32LE(opts.pid ?? process.pid, 32);
  body.copy(b, P.IN_HEADER);
  return { buf: b, unique: u };
}
const readIn = (fh: bigint, offset: bigint, size: number) => { const b = Buffer.alloc(40); b.writeBigUInt64LE(fh, 0); b.writeBigUInt64LE(offset, 8); b.writeUInt32LE(size, 16); return b; };
const openIn = (flags: number) => { const b = Buffer.alloc(8); b.writeUInt32LE(flags, 0); return b; };
const fhIn = (fh: bigint) => { const b = Buffer.alloc(24); b.writeBigUInt64LE(fh, 0); return b; };
const initIn = (minor: number) => { const b = Buffer.alloc(64); b.writeUInt32LE(7, 0); b.writeUInt32LE(minor, 4); b.writeUInt32LE(131072, 8); return b; };

const [serverEnd, kernelEnd] = socketPair();
const rbuf = Buffer.alloc(256 * 1024);
const nextReply = () => new Promise<{ error: number; unique: bigint; body: Buffer }>((resolve) => readAsync(kernelEnd, rbuf, (n) => {
  const b = Buffer.from(rbuf.subarray(0, n));
  assert.is(b.readUInt32LE(0), n, 'out-header len is the reply\'s size');
  resolve({ error: -b.readInt32LE(4), unique: b.readBigUInt64LE(8), body: b.subarray(P.OUT_HEADER) });
}));
/** Send one request, wait for its reply (checked to be that request's). */
async function ask(r: { buf: Buffer; unique: bigint }) {
  fs.writeSync(kernelEnd, r.buf);
  const rep = await nextReply();
  assert.is(rep.unique, r.unique);
  return rep;
}

const BIG = 'x'.repeat(100 * 1024);
const rendered: { kind: string; pid: number }[] = [];
let server: ProcViewServer;

test.before(async () => {
  const starting = ProcViewServer.attach(serverEnd, '/nonexistent-procview-test', {
    initialized: false,
    render: (kind, pid) => { rendered.push({ kind, pid }); return kind === 'cpuinfo' ? BIG : `${kind} for ${pid}\n`; },
  });
  const init = await ask(req(P.OP.INIT, 0n, initIn(44)));
  assert.is(init.error, 0);
  assert.is(init.body.length, 64);
  assert.is(init.body.readUInt32LE(0), 7);
  assert.is(init.body.readUInt32LE(4), P.OUR_MINOR, 'the lower minor wins');
  server = await starting;
});

test.after(async () => {
  fs.closeSync(kernelEnd); // the server's next read gets 0: with close() under way it ends
  await server.close(0);
});

test('lookup: names in the fixed table only; unknown nodes and non-directories ENOENT', async () => {
  const proc = await ask(req(P.OP.LOOKUP, 1n, Buffer.from('proc\0')));
  assert.is(proc.error, 0);
  assert.is(proc.body.readBigUInt64LE(0), 2n);
  for (const [parent, name] of [[1n, '..'], [1n, 'meminfo'], [2n, '../proc'], [3n, 'x'], [999n, 'proc'], [2n ** 64n - 1n, 'proc']] as const) {
    assert.is((await ask(req(P.OP.LOOKUP, parent, Buffer.from(`${name}\0`)))).error, P.E.NOENT, `${parent}/${name}`);
  }
  assert.is((await ask(req(P.OP.LOOKUP, 2n, Buffer.from('meminfo')))).error, P.E.NOENT, 'no NUL');
  assert.is((await ask(req(P.OP.GETATTR, 0n, Buffer.alloc(16)))).error, P.E.NOENT);
});

test('open: read-only files only (EROFS for write access or O_TRUNC, EISDIR for a directory); direct I/O', async () => {
  const ok = await ask(req(P.OP.OPEN, 3n, openIn(0)));
  assert.is(ok.error, 0);
  assert.is(ok.body.readUInt32LE(8) & P.FOPEN_DIRECT_IO, P.FOPEN_DIRECT_IO);
  await ask(req(P.OP.RELEASE, 3n, fhIn(ok.body.readBigUInt64LE(0))));
  for (const flags of [1, 2, 0o1000]) assert.is((await ask(req(P.OP.OPEN, 3n, openIn(flags)))).error, P.E.ROFS, `flags ${flags}`);
  assert.is((await ask(req(P.OP.OPEN, 2n, openIn(0)))).error, P.E.ISDIR);
  assert.is((await ask(req(P.OP.OPEN, 3n, Buffer.alloc(4)))).error, P.E.INVAL, 'short body');
});

test('read: computed for the caller\'s pid at offset 0, kept for later offsets; sizes capped; offsets past the end empty; foreign handles EBADF', async () => {
  const o = await ask(req(P.OP.OPEN, 3n, openIn(0), { pid: 4321 }));
  const fh = o.body.readBigUInt64LE(0);
  const r0 = await ask(req(P.OP.READ, 3n, readIn(fh, 0n, 7), { pid: 4321 }));
  assert.is(r0.body.toString(), 'meminfo');
  assert.equal(rendered.at(-1), { kind: 'meminfo', pid: 4321 });
  const n = rendered.length;
  const r1 = await ask(req(P.OP.READ, 3n, readIn(fh, 7n, 4096), { pid: 4321 }));
  assert.is(r1.body.toString(), ' for 4321\n');
  assert.is(rendered.length, n, 'not computed again mid-file');
  assert.is((await ask(req(P.OP.READ, 3n, readIn(fh, 2n ** 64n - 1n, 4096)))).body.length, 0);
  assert.is((await ask(req(P.OP.READ, 4n, readIn(fh, 0n, 10)))).error, P.E.BADF, 'the handle is another node\'s');
  assert.is((await ask(req(P.OP.READ, 3n, readIn(999999n, 0n, 10)))).error, P.E.BADF);
  assert.is((await ask(req(P.OP.READ, 3n, Buffer.alloc(10)))).error, P.E.INVAL);
  await ask(req(P.OP.RELEASE, 3n, fhIn(fh)));
  assert.is((await ask(req(P.OP.READ, 3n, readIn(fh, 0n, 10)))).error, P.E.BADF, 'released');
  const c = await ask(req(P.OP.OPEN, 4n, openIn(0)));
  const big = await ask(req(P.OP.READ, 4n, readIn(c.body.readBigUInt64LE(0), 0n, 0xffffffff)));
  assert.is(big.body.length, P.MAX_READ);
  await ask(req(P.OP.RELEASE, 4n, fhIn(c.body.readBigUInt64LE(0))));
});

test('kept text: none once a read reached the end (later reads get EOF); a namespace keeps at most 8 MiB of half-read files', async () => {
  const ns = fs.readlinkSync(`/proc/${process.pid}/ns/pid`);
  const o = await ask(req(P.OP.OPEN, 5n, openIn(0)));
  const fh = o.body.readBigUInt64LE(0);
  const whole = await ask(req(P.OP.READ, 5n, readIn(fh, 0n, 4096)));
  assert.is(whole.body.toString(), `stat for ${process.pid}\n`);
  assert.is(server.keptByNamespace.get(ns), undefined, 'nothing kept after a whole read');
  assert.is((await ask(req(P.OP.READ, 5n, readIn(fh, BigInt(whole.body.length), 4096)))).body.length, 0, 'EOF');
  assert.is((await ask(req(P.OP.READ, 5n, readIn(fh, 3n, 4096)))).body.length, 0, 'EOF until a read from 0 again');
  await ask(req(P.OP.RELEASE, 5n, fhIn(fh)));
  // cpuinfo renders 100 KiB here: 10 bytes read from each of 100 open files
  const fhs: bigint[] = [];
  let cut = 0;
  for (let i = 0; i < 100; i++) {
    const f = (await ask(req(P.OP.OPEN, 4n, openIn(0)))).body.readBigUInt64LE(0);
    fhs.push(f);
    assert.is((await ask(req(P.OP.READ, 4n, readIn(f, 0n, 10)))).body.length, 10);
    if ((await ask(req(P.OP.READ, 4n, readIn(f, 10n, 10)))).body.length === 0) cut++;
  }
  assert.ok(server.keptByNamespace.get(ns)! <= MAX_KEPT_BYTES_PER_NS);
  assert.is(cut, 100 - Math.floor(MAX_KEPT_BYTES_PER_NS / BIG.length), 'the files past the budget end early for their reader');
  for (const f of fhs) await ask(req(P.OP.RELEASE, 4n, fhIn(f)));
  assert.is(server.keptByNamespace.get(ns), undefined, 'RELEASE gives it all back');
});

test('readdir: the tree\'s listing, resumable by offset; not on a file', async () => {
  const d = await ask(req(P.OP.READDIR, 2n, readIn(0n, 2n, 4096)));
  assert.is(d.error, 0);
  assert.is(d.body.subarray(24, 31).toString(), 'meminfo');
  assert.is((await ask(req(P.OP.READDIR, 3n, readIn(0n, 0n, 4096)))).error, P.E.NOTDIR);
});

test('malformed requests get no answer and do not stop the server; unknown opcodes ENOSYS; forgets unanswered', async () => {
  fs.writeSync(kernelEnd, req(P.OP.GETATTR, 1n, Buffer.alloc(16), { len: 9999 }).buf); // len ≠ bytes
  fs.writeSync(kernelEnd, Buffer.alloc(12)); // shorter than a header
  fs.writeSync(kernelEnd, req(P.OP.FORGET, 3n, Buffer.alloc(8)).buf);
  for (const op of [P.OP.SETATTR, P.OP.WRITE, 5, 9, 10, 12, 35, 39, 4096]) assert.is((await ask(req(op, 1n, Buffer.alloc(64)))).error, P.E.NOSYS, `opcode ${op}`);
  assert.is((await ask(req(P.OP.GETATTR, 1n, Buffer.alloc(16)))).error, 0);
});

test('open files are bounded per pid namespace (ENFILE past 1024) and freed by RELEASE', async () => {
  const fhs: bigint[] = [];
  let refused = 0;
  for (let i = 0; i < 1030; i++) {
    const r = await ask(req(P.OP.OPEN, 6n, openIn(0)));
    if (r.error) { assert.is(r.error, P.E.NFILE); refused++; } else fhs.push(r.body.readBigUInt64LE(0));
  }
  assert.is(fhs.length, 1024);
  assert.is(refused, 6);
  await ask(req(P.OP.RELEASE, 6n, fhIn(fhs.pop()!)));
  assert.is((await ask(req(P.OP.OPEN, 6n, openIn(0)))).error, 0);
});

test.run();
