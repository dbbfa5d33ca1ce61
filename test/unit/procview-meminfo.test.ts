// procview's /proc/meminfo and /proc/swaps from real cgroup files (test/fixtures/procview:
// this host's /proc files and a v1 memory.stat; a v2 memory.stat in kernel 6.x's format).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { meminfo, MemInput, swapOf } from '../../lib/procview/meminfo';
import { swaps } from '../../lib/procview/swaps';
import { parseKv, parseMeminfo } from '../../lib/procview/parse';

const fx = (f: string) => fs.readFileSync(path.join(__dirname, '../fixtures/procview', f), 'utf8');
const HOST = fx('host-meminfo');
const MiB = 1024 * 1024;
const withSwap = (kb: number) => HOST.replace(/^SwapTotal:.*$/m, `SwapTotal:      ${kb} kB`).replace(/^SwapFree:.*$/m, `SwapFree:       ${kb} kB`);

const v1 = (over: Partial<MemInput> = {}): MemInput => {
  const stat = parseKv(fx('v1-memory.stat'));
  return { v2: false, stat, usage: 100 * MiB, limit: stat.get('hierarchical_memory_limit'), ...over };
};
const v2 = (over: Partial<MemInput> = {}): MemInput => ({ v2: true, stat: parseKv(fx('v2-memory.stat')), usage: 170 * MiB, limit: 256 * MiB, ...over });

test('v1: MemTotal is the hierarchical limit, MemFree what is left, the LRU lines from total_*', () => {
  const m = parseMeminfo(meminfo(HOST, v1()));
  assert.is(m.get('MemTotal'), 262144);
  assert.is(m.get('MemFree'), 262144 - 102400);
  const s = parseKv(fx('v1-memory.stat'));
  assert.is(m.get('Cached'), Math.floor(s.get('total_cache')! / 1024));
  assert.is(m.get('Active(file)'), Math.floor(s.get('total_active_file')! / 1024));
  assert.is(m.get('Inactive'), Math.floor((s.get('total_inactive_anon')! + s.get('total_inactive_file')!) / 1024));
  assert.is(m.get('MemAvailable'), 262144 - 102400 + Math.floor((s.get('total_active_file')! + s.get('total_inactive_file')!) / 1024));
  assert.is(m.get('Shmem'), 0);
  assert.is(m.get('Buffers'), 0);
  // v1 has no slab figure: 0, not the host's (busybox free's "used" = total − free − Cached − SReclaimable wrapped below zero with the host's)
  assert.is(m.get('SReclaimable'), 0);
  assert.is(m.get('Slab'), 0);
  const used = m.get('MemTotal')! - m.get('MemFree')! - m.get('Cached')! - m.get('SReclaimable')!;
  assert.ok(used >= 0, `free's used ${used}`);
});

test('the host\'s other lines stay, in the host\'s order and layout', () => {
  const out = meminfo(HOST, v1());
  assert.is(out.split('\n').length, HOST.split('\n').length);
  assert.equal(out.split('\n').map((l) => l.split(':')[0]), HOST.split('\n').map((l) => l.split(':')[0]));
  assert.ok(/^MemTotal:\s+262144 kB$/m.test(out));
  assert.is(/^MemTotal:.*$/m.exec(out)![0].length, /^MemTotal:.*$/m.exec(HOST)![0].length); // the kernel's "%-16s%8lu kB" columns
  assert.is(/^VmallocTotal:.*$/m.exec(out)![0], /^VmallocTotal:.*$/m.exec(HOST)![0]);
});

test('no limit (v1\'s 9223372036854771712, v2\'s "max") or one above the host\'s RAM: the host\'s file untouched', () => {
  assert.is(meminfo(HOST, v1({ limit: 9223372036854771712 })), HOST);
  assert.is(meminfo(HOST, v2({ limit: undefined })), HOST);
  assert.is(meminfo(HOST, v2({ limit: 64 * 1024 * MiB })), HOST);
});

test('usage above the limit (a moment\'s overshoot) shows MemFree 0, never a negative or wrapped number', () => {
  const m = parseMeminfo(meminfo(HOST, v2({ usage: 300 * MiB })));
  assert.is(m.get('MemFree'), 0);
});

test('v2: file, shmem, slab and the anon/file LRUs from v2\'s names; MemAvailable capped at MemTotal', () => {
  const m = parseMeminfo(meminfo(HOST, v2()));
  assert.is(m.get('MemTotal'), 262144);
  assert.is(m.get('MemFree'), 262144 - 170 * 1024);
  assert.is(m.get('Cached'), 51200);
  assert.is(m.get('Shmem'), 8192);
  assert.is(m.get('Active'), 8192 + 20480);
  assert.is(m.get('Mapped'), 20480);
  assert.is(m.get('Dirty'), 128);
  assert.is(m.get('SReclaimable'), 2048);
  assert.is(m.get('MemAvailable'), 262144 - 170 * 1024 + 20480 + 30720 + 2048);
  assert.is(parseMeminfo(meminfo(HOST, v2({ usage: 0 }))).get('MemAvailable'), 262144);
});

test('swap: v2 swap.max bounds it, v1 memsw minus memory; never more than the host has', () => {
  const host = withSwap(1024 * 1024);
  let m = parseMeminfo(meminfo(host, v2({ swapLimit: 64 * MiB, swapUsage: 16 * MiB })));
  assert.is(m.get('SwapTotal'), 65536);
  assert.is(m.get('SwapFree'), 65536 - 16384);
  m = parseMeminfo(meminfo(host, v1({ swapLimit: 384 * MiB, swapUsage: 120 * MiB })));
  assert.is(m.get('SwapTotal'), 131072);
  assert.is(m.get('SwapFree'), 131072 - 20480);
  m = parseMeminfo(meminfo(withSwap(1000), v2({ swapLimit: 64 * MiB })));
  assert.is(m.get('SwapTotal'), 1000);
  m = parseMeminfo(meminfo(HOST, v2({ swapLimit: undefined }))); // this host: no swap at all
  assert.is(m.get('SwapTotal'), 0);
  assert.is(m.get('SwapFree'), 0);
});

test('/proc/swaps: one virtual device with the allowance; only the header when none; the host\'s without a limit', () => {
  const s = swapOf(v2({ swapLimit: 64 * MiB, swapUsage: 16 * MiB }), 1024 * 1024, 262144);
  const out = swaps(fx('host-swaps'), s).split('\n');
  assert.match(out[0], /^Filename\s+Type\s+Size\s+Used\s+Priority$/);
  assert.equal(out[1].split(/\s+/), ['none', 'virtual', '65536', '16384', '0']);
  assert.is(swaps(fx('host-swaps'), { total: 0, used: 0 }).split('\n').filter(Boolean).length, 1);
  assert.is(swaps(fx('host-swaps'), undefined), fx('host-swaps'));
});

test.run();
