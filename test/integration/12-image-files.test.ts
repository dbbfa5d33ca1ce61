// What an image's files look like once unpacked (lib/image/extract.ts): modes as archived
// whatever the umask of whoever unpacked it (a rootfs's /tmp is 1777, so a non-root user can
// write there), set-uid bits kept, FIFOs made, device nodes skipped instead of refusing the
// whole rootfs (every debootstrap/mmdebstrap tarball has some).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { box, BOX, ENV, TOP } from '../helpers/box';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-imgfiles-'));
const sh = (script: string) => {
  const r = spawnSync('sh', ['-ec', script], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
};
/** box under a restrictive umask, as a user's shell may have it */
const boxUmask = (args: string[]) => spawnSync('sh', ['-c', 'umask 077; exec "$0" "$@"', BOX, ...args], { env: ENV, encoding: 'utf8' });

test('a rootfs tarball with device nodes, a FIFO, a 1777 /tmp and a set-uid file, unpacked under umask 077', () => {
  const root = path.join(tmp, 'rootfs');
  fs.mkdirSync(root);
  sh(`tar -xzf ${TOP}/images/busybox.tar.gz -C ${root}
      cd ${root}
      mkdir -p dev run tmp
      mknod dev/sda b 8 0; mknod dev/null c 1 3; mknod disk b 8 1
      mkfifo -m 0620 run/fifo
      chmod 1777 tmp
      printf x > suid; chmod 4755 suid
      tar -cf ${tmp}/debootstrap-like.tar .`);
  const r = boxUmask(['run', '--rm', path.join(tmp, 'debootstrap-like.tar'), 'sh', '-c',
    'stat -c "%a" /tmp /suid /run/fifo; test -p /run/fifo && echo fifo; test -e /disk || echo no-disk']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '1777\n4755\n620\nfifo\nno-disk\n');
  const u = box(['run', '--rm', '-u', '1000', path.join(tmp, 'debootstrap-like.tar'), 'sh', '-c', 'echo hi > /tmp/mine && cat /tmp/mine']);
  assert.is(u.stdout, 'hi\n', u.stderr);
});

test('the builtin busybox image: a non-root user can write /tmp', () => {
  const r = box(['run', '--rm', '-u', '1000:1000', 'busybox', 'sh', '-c', 'stat -c "%a" /tmp; echo hi > /tmp/mine && cat /tmp/mine']);
  assert.is(r.stdout, '1777\nhi\n', r.stderr);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
