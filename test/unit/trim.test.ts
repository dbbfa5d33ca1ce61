// lib/supervisor/trim.ts: which mappings of /proc/self/maps the idle supervisor pages out.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileMappings } from '../../lib/supervisor/trim';

test('file-backed mappings only: not anonymous memory, [heap], [stack], vdso or inode-0 mappings', () => {
  const maps = [
    '00400000-00b6f000 r--p 00000000 fe:01 1574       /usr/bin/node',
    '00b72000-025fe000 r-xp 00772000 fe:01 1574       /usr/bin/node',
    '42c9c000-42f10000 rw-p 00000000 00:00 0          [heap]',
    '77f55000000-77f55064000 rw-p 00000000 00:00 0 ',
    '7f7411200000-7f7411299000 r--p 00000000 fe:01 2094   /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30',
    '7f7411300000-7f7411301000 rw-s 00000000 00:01 0      /dev/zero (deleted)',
    '7ffd5c1e8000-7ffd5c209000 rw-p 00000000 00:00 0      [stack]',
    '7ffd5c3f1000-7ffd5c3f3000 r-xp 00000000 00:00 0      [vdso]',
    '',
  ].join('\n');
  assert.equal(fileMappings(maps), [
    [0x400000, 0xb6f000 - 0x400000],
    [0xb72000, 0x25fe000 - 0xb72000],
    [0x7f7411200000, 0x7f7411299000 - 0x7f7411200000],
  ]);
});

test('addresses near the top of user space stay exact', () => {
  const [[start, len]] = fileMappings('7ffff7fc3000-7ffff7fc5000 r--p 00000000 fe:01 99 /usr/lib/ld.so');
  assert.is(start, 0x7ffff7fc3000);
  assert.is(len, 0x2000);
});

test.run();
