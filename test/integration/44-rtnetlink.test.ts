// lib/net/rtnetlink.ts against the real kernel (issue 17, first brick), never in the host's
// network namespace: test/fixtures/netlink-probe.ts runs under `unshare --net --mount` (a
// namespace that dies with it, with its own sysfs on /sys so that /sys/class/net shows that
// namespace). It makes a bridge box-t0 and a veth pair box-t0a/box-t0b, masters box-t0a to the
// bridge, sets all up, adds 10.99.0.1/24 and a default route, moves box-t0b into a second
// namespace by fd, deletes the rest, and tries the bridge twice; each step prints a JSON line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TOP, needs } from '../helpers/box';

const unshare = ['/usr/bin/unshare', '/bin/unshare'].find((p) => fs.existsSync(p));
const root = process.geteuid!() === 0;
const it = needs(test, root && !!unshare, !root ? 'needs root' : 'unshare(1) is missing');

let steps: Record<string, any> | undefined;
function probe(): Record<string, any> {
  if (steps) return steps;
  const r = spawnSync(unshare!, ['--net', '--mount', 'sh', '-c', 'mount -t sysfs sysfs /sys && exec "$0" -r tsx/cjs "$1"', process.execPath, path.join(TOP, 'test/fixtures/netlink-probe.ts')],
    { cwd: TOP, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.is(r.status, 0, `probe failed: ${r.stderr}`);
  steps = Object.fromEntries(r.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((s) => [s.step, s]));
  return steps!;
}

it('bridge and veth pair: made, mastered, up, addressed, routed (netlink and sysfs agree)', () => {
  const { made } = probe();
  const by = Object.fromEntries(made.links.map((l: any) => [l.name, l]));
  assert.is(by['box-t0']?.kind, 'bridge');
  assert.is(by['box-t0a']?.kind, 'veth');
  assert.is(by['box-t0b']?.kind, 'veth');
  assert.is(made.bridge, by['box-t0'].index);
  assert.is(by['box-t0a'].master, by['box-t0'].index);
  assert.is(by['box-t0b'].master, undefined);
  for (const n of ['box-t0', 'box-t0a', 'box-t0b']) {
    assert.ok(by[n].up, `${n} up`);
    assert.ok(Number(made.sys[n]?.flags) & 1, `${n} IFF_UP in sysfs: ${JSON.stringify(made.sys[n])}`);
  }
  assert.is(made.sys['box-t0a'].master, 'box-t0');
  assert.is(made.sys['box-t0b'].master, null);
  assert.equal(made.addrs, [{ index: by['box-t0'].index, cidr: '10.99.0.1/24' }]);
  assert.ok(made.fib, '10.99.0.1 in /proc/net/fib_trie');
  assert.ok(made.route, 'default via 10.99.0.254 dev box-t0 in /proc/net/route');
});

it('a veth end moves into another namespace by fd', () => {
  const { moved } = probe();
  assert.not.ok(moved.here.includes('box-t0b'));
  assert.ok(moved.here.includes('box-t0a'));
  assert.ok(moved.there, 'box-t0b in the other namespace');
});

it('deleted links are gone, with their address', () => {
  const { deleted } = probe();
  assert.equal(deleted.links.map((l: any) => l.name), ['lo']);
  assert.equal(deleted.addrs, []);
  assert.not.ok(deleted.fib);
  assert.equal(deleted.sys, { 'box-t0': null, 'box-t0a': null, 'box-t0b': null });
});

it('errors name the operation and the errno', () => {
  const { twice, missing } = probe();
  // A kernel with extended acks may append its own words after the errno.
  assert.match(twice.error, /^netlink: create bridge box-t0: EEXIST \(file already exists\)(: .*)?$/);
  assert.match(missing.error, /^netlink: delete link box-none: ENODEV \(no such device\)(: .*)?$/);
});

test.run();
