// procview's FUSE wire format (include/uapi/linux/fuse.h layouts) and its defences against
// hostile requests: short or inconsistent requests, unknown node ids, names, paths in cgroup files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as P from '../../lib/procview/protocol';
import { node, lookup, listing, attr } from '../../lib/procview/tree';
import { callerDirs, cgroupDir } from '../../lib/procview/caller';
import { parseMountinfo } from '../../lib/cgroup/discover';

function request(opcode: number, nodeid: bigint, body: Buffer, pid = 4242): Buffer {
  const b = Buffer.alloc(P.IN_HEADER + body.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt32LE(opcode, 4);
  b.writeBigUInt64LE(77n, 8);
  b.writeBigUInt64LE(nodeid, 16);
  b.writeUInt32LE(pid, 32);
  body.copy(b, P.IN_HEADER);
  return b;
}

test('the in-header: parsed when its len is exactly the bytes read, refused otherwise', () => {
  const r = request(P.OP.LOOKUP, 1n, Buffer.from('proc\0'));
  assert.equal(P.parseHeader(r, r.length), { len: r.length, opcode: 1, unique: 77n, nodeid: 1n, uid: 0, gid: 0, pid: 4242 });
  assert.is(P.parseHeader(r, r.length - 1), undefined);
  assert.is(P.parseHeader(r, 39), undefined);
});

test('bodies shorter than their struct are refused; names need their NUL and ≤255 bytes', () => {
  assert.is(P.parseRead(Buffer.alloc(23)), undefined);
  assert.is(P.parseInit(Buffer.alloc(15)), undefined);
  assert.is(P.parseOpen(Buffer.alloc(7)), undefined);
  assert.is(P.parseRelease(Buffer.alloc(7)), undefined);
  assert.is(P.parseName(Buffer.from('meminfo')), undefined);
  assert.is(P.parseName(Buffer.from('\0')), undefined);
  assert.is(P.parseName(Buffer.from(`${'a'.repeat(256)}\0`)), undefined);
  assert.is(P.parseName(Buffer.from('meminfo\0junk')), 'meminfo');
});

test('the tree: fixed ids, names looked up in a table (no paths), anything else unknown', () => {
  assert.is(node(0n), undefined);
  assert.is(node(15n), undefined);
  assert.is(node(2n ** 64n - 1n), undefined);
  assert.is(lookup(node(2n)!, 'meminfo')!.file, 'meminfo');
  for (const bad of ['..', '.', '../proc', 'meminfo/', 'proc/meminfo']) assert.is(lookup(node(1n)!, bad), undefined, bad);
  assert.is(lookup(node(13n)!, 'online')!.file, 'cpu-online');
  assert.equal(listing(node(2n)!).map((d) => d.name), ['.', '..', 'meminfo', 'cpuinfo', 'stat', 'uptime', 'loadavg', 'swaps', 'diskstats']);
  assert.is(attr(node(3n)!, 0).mode, 0o100444);
  assert.is(attr(node(1n)!, 0).mode, 0o040555);
});

test('replies: header, negative errno, struct sizes of fuse.h (entry_out 128, attr_out 104, open_out 16, init_out 64/24)', () => {
  const r = P.reply(9n, P.E.NOENT);
  assert.equal([r.length, r.readUInt32LE(0), r.readInt32LE(4), r.readBigUInt64LE(8)], [16, 16, -2, 9n]);
  assert.is(P.entryOut(attr(node(3n)!, 1), 60).length, 128);
  assert.is(P.attrOut(attr(node(3n)!, 1), 60).length, 104);
  assert.is(P.openOut(1n, P.FOPEN_DIRECT_IO).length, 16);
  assert.is(P.initOut(31, 0).length, 64);
  assert.is(P.initOut(22, 0).length, 24);
  const e = P.entryOut(attr(node(3n)!, 1), 60);
  assert.is(e.readBigUInt64LE(0), 3n);
  assert.is(e.readUInt32LE(40 + 60), 0o100444); // fuse_attr.mode
});

test('dirents: 8-byte aligned, each off the next index, cut at the size asked, resumed from an offset, empty past the end', () => {
  const l = listing(node(2n)!);
  const all = P.dirents(l, 0n, 65536);
  assert.is(all.length % 8, 0);
  assert.is(all.readUInt32LE(16), 1); // '.'
  const first = P.dirents(l, 0n, 64);
  assert.is(first.length, 32 + 32); // '.' and '..' are 25 and 26 bytes, each padded to 32
  const rest = P.dirents(l, 2n, 65536);
  assert.is(rest.subarray(24, 24 + 7).toString(), 'meminfo');
  assert.is(P.dirents(l, 999n, 65536).length, 0);
  assert.is(P.dirents(l, 2n ** 63n, 65536).length, 0);
});

const HYBRID = `32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw`;

test('caller: /proc/<pid>/cgroup mapped onto the host\'s hierarchies (v1 and v2); a path that would leave its hierarchy refused', () => {
  const c = callerDirs('4:memory:/box-1/c1\n2:cpuacct:/box-1/c1\n1:cpu:/box-1/c1\n0::/\n', parseMountinfo(HYBRID));
  assert.is(c.dirs.get('memory'), '/sys/fs/cgroup/memory/box-1/c1');
  assert.is(c.dirs.get('cpu'), '/sys/fs/cgroup/cpu/box-1/c1');
  assert.is(c.v2, false);
  assert.is(c.atRoot, false);
  const v2 = callerDirs('0::/box-1/c2\n', parseMountinfo('41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw'));
  assert.is(v2.dirs.get('memory'), '/sys/fs/cgroup/box-1/c2');
  assert.is(v2.root, '/sys/fs/cgroup');
  assert.is(callerDirs('4:memory:/\n1:cpu:/\n0::/\n', parseMountinfo(HYBRID)).atRoot, true);
  assert.is(cgroupDir('/sys/fs/cgroup/memory', '/../../../etc'), undefined);
  assert.is(cgroupDir('/sys/fs/cgroup/memory', 'relative'), undefined);
  assert.is(cgroupDir('/sys/fs/cgroup/memory', '/a/./b'), undefined);
  assert.is(cgroupDir('/sys/fs/cgroup/memory', '/'), '/sys/fs/cgroup/memory');
});

test.run();
