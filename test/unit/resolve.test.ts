// The fd resolver, without root, on a temp tree: both openat2 (the kernel's RESOLVE_IN_ROOT)
// and the fd walk used on kernels without it must keep every path inside the root.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openRoot, resolveIn, resolveFallback, readFileIn } from '../../lib/mount/resolve';
import { parseMountinfo, mountFlags, under } from '../../lib/mount/mountinfo';

const top = fs.mkdtempSync(path.join(os.tmpdir(), 'box-resolve-'));
const root = path.join(top, 'root');
const outside = path.join(top, 'outside'); // what an escape would reach
fs.mkdirSync(path.join(root, 'etc/deep'), { recursive: true });
fs.mkdirSync(outside);
fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
fs.writeFileSync(path.join(root, 'file'), 'a file');
fs.symlinkSync('/etc', path.join(root, 'abs'));                          // absolute: inside the root
fs.symlinkSync('../../../../../../etc', path.join(root, 'etc/deep/rel'));  // relative, climbing far too high
fs.symlinkSync(outside, path.join(root, 'out'));                          // the host path, as a container would write it
fs.symlinkSync('loop2', path.join(root, 'loop1'));
fs.symlinkSync('loop1', path.join(root, 'loop2'));
fs.symlinkSync('/proc/self/root', path.join(root, 'magic'));

const real = (fd: number) => { try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } finally { fs.closeSync(fd); } };
const rootFd = openRoot(root);

for (const [label, resolve] of [['openat2', resolveIn], ['fd walk (old kernels)', resolveFallback]] as const) {
  test(`${label}: plain paths, absolute and relative symlinks land inside the root`, () => {
    assert.is(real(resolve(rootFd, '/etc/passwd')), path.join(root, 'etc/passwd'));
    assert.is(real(resolve(rootFd, 'abs/passwd')), path.join(root, 'etc/passwd'));
    assert.is(real(resolve(rootFd, '/etc/deep/rel/passwd')), path.join(root, 'etc/passwd'));
    assert.is(real(resolve(rootFd, '/')), root);
  });

  test(`${label}: ".." never climbs above the root`, () => {
    assert.is(real(resolve(rootFd, '../../../../etc')), path.join(root, 'etc'));
    assert.is(real(resolve(rootFd, '/etc/../../..')), root);
  });

  test(`${label}: a symlink to a host path is followed inside the root, not to the host`, () => {
    assert.throws(() => resolve(rootFd, '/out'), (e: any) => e.code === 'ENOENT');
    const fd = resolve(rootFd, '/out/x/y', { create: 'dir' });
    assert.is(real(fd), path.join(root, outside, 'x/y'));
    assert.equal(fs.readdirSync(outside), [], 'nothing created outside');
    fs.rmSync(path.join(root, top.split('/')[1]), { recursive: true });
  });

  test(`${label}: a proc magic link is not a way out`, () => {
    let fd = -1;
    try { fd = resolve(rootFd, '/magic/etc'); } catch (e: any) { assert.ok(['ENOENT', 'ELOOP', 'EXDEV'].includes(e.code), e.message); return; }
    assert.ok(real(fd).startsWith(root + '/'), 'resolved inside the root');
  });

  test(`${label}: symlink loops and a file used as a directory fail`, () => {
    assert.throws(() => resolve(rootFd, '/loop1/x'), (e: any) => e.code === 'ELOOP');
    assert.throws(() => resolve(rootFd, '/file/x'), (e: any) => e.code === 'ENOTDIR');
    assert.throws(() => resolve(rootFd, '/file/x', { create: 'dir' }), (e: any) => e.code === 'ENOTDIR');
  });

  test(`${label}: create makes directories and, for 'file', an empty file as the last component`, () => {
    const name = label.split(' ')[0].replace(/\W/g, '');
    assert.is(real(resolve(rootFd, `/made-${name}/a/b`, { create: 'dir' })), path.join(root, `made-${name}/a/b`));
    assert.ok(fs.statSync(path.join(root, `made-${name}/a/b`)).isDirectory());
    assert.is(real(resolve(rootFd, `/abs/f-${name}`, { create: 'file' })), path.join(root, `etc/f-${name}`));
    assert.ok(fs.statSync(path.join(root, `etc/f-${name}`)).isFile());
  });
}

test('readFileIn: follows the image\'s symlinks inside it; refuses a FIFO without blocking; caps the size', () => {
  assert.is(readFileIn(root, '/abs/passwd', 1 << 20)!.toString(), 'root:x:0:0::/root:/bin/sh\n');
  assert.is(readFileIn(root, '/out/passwd', 1 << 20), undefined);
  require('node:child_process').spawnSync('mkfifo', [path.join(root, 'fifo')]);
  assert.throws(() => readFileIn(root, '/fifo', 1 << 20), /fifo: not a regular file/);
  assert.throws(() => readFileIn(root, '/file', 3), /larger than 3 bytes/);
});

test('mountinfo: fields, escapes, flags', () => {
  const [m] = parseMountinfo('36 35 98:0 / /mnt/a\\040b rw,nosuid,noatime shared:1 - proc proc rw\n');
  assert.equal({ ...m }, { id: 36, parent: 35, root: '/', mountpoint: '/mnt/a b', options: 'rw,nosuid,noatime', fstype: 'proc' });
  assert.is(mountFlags('ro,nodev,noexec,relatime'), 1 | 4 | 8 | (1 << 21));
  assert.ok(under('/a/b', '/a') && under('/a', '/a') && !under('/ab', '/a') && under('/x', '/'));
});

test.after(() => { fs.closeSync(rootFd); fs.rmSync(top, { recursive: true, force: true }); });
test.run();
