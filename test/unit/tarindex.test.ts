// The member index box imports archives through (lib/image/tarindex.ts): names as GNU tar and
// PAX write them, offsets that read the right bytes, links followed inside the archive only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tarIndex, lookup } from '../../lib/image/tarindex';
import { humanSize } from '../../lib/cli/format';
import { tarball } from '../helpers/tar';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-tarindex-'));
const read = (file: string, m: { offset: number; size: number }) => fs.readFileSync(file).subarray(m.offset, m.offset + m.size).toString();

test('ustar entries: offsets and sizes read the member; symlinks (relative, absolute, via a directory) and hard links resolve inside', () => {
  const file = path.join(tmp, 'a.tar');
  fs.writeFileSync(file, tarball([
    { name: './manifest.json', data: '[1]' }, { name: 'blobs/', type: 'dir' }, { name: 'blobs/x', data: 'X'.repeat(700) },
    { name: 'rel', type: 'symlink', link: 'blobs/x' }, { name: 'abs', type: 'symlink', link: '/blobs/x' }, { name: 'up', type: 'symlink', link: '../../blobs/x' },
    { name: 'dir', type: 'symlink', link: 'blobs' }, { name: 'hard', type: 'link', link: 'blobs/x' }, { name: 'host', type: 'symlink', link: '/etc/passwd' },
    { name: 'loop', type: 'symlink', link: 'loop' },
  ]));
  const ix = tarIndex(file);
  assert.is(read(file, ix.get('manifest.json')!), '[1]');
  for (const name of ['blobs/x', 'rel', 'abs', 'up', 'dir/x', 'hard', 'blobs/../rel']) assert.is(read(file, lookup(ix, name)!), 'X'.repeat(700), name);
  assert.is(lookup(ix, 'host'), undefined, 'an absolute target stays in the archive');
  assert.throws(() => lookup(ix, 'blobs'), /not a regular file/);
  assert.throws(() => lookup(ix, 'loop'), /too many levels/);
});

test('PAX and GNU long names (over 100 characters), as GNU tar writes them', () => {
  const src = path.join(tmp, 'src');
  const long = `${'d'.repeat(90)}/${'f'.repeat(120)}`;
  fs.mkdirSync(path.join(src, path.dirname(long)), { recursive: true });
  fs.writeFileSync(path.join(src, long), 'long');
  for (const format of ['pax', 'gnu']) {
    const file = path.join(tmp, `${format}.tar`);
    assert.is(spawnSync('tar', [`--format=${format}`, '-cf', file, '-C', src, '.']).status, 0);
    const m = lookup(tarIndex(file), long);
    assert.ok(m, format);
    assert.is(read(file, m!), 'long', format);
  }
});

test('sizes as Docker prints them', () => {
  assert.is(humanSize(0, 4), '0B');
  assert.is(humanSize(999, 4), '999B');
  assert.is(humanSize(220262912, 4), '220.3MB');
  assert.is(humanSize(3 * 1024 ** 3, 4), '3.221GB');
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
