// lib/net/addr.ts: the choices box's networking makes, without a kernel — a new network's subnet
// against routes and other networks, a container's address, its MAC, the names of links.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as a from '../../lib/net/addr';

test('addresses: dotted quads only, uint32 both ways', () => {
  assert.is(a.ipToInt('172.17.0.1'), 0xac110001);
  assert.is(a.ipToInt('255.255.255.255'), 0xffffffff);
  assert.is(a.intToIp(0xac110001), '172.17.0.1');
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', ' 1.2.3.4', '1.2.3.4/8', 'a.b.c.d'])
    assert.is(a.ipToInt(bad), undefined, bad);
});

test('subnets: Docker\'s words for a bad CIDR and for host bits; at most /30', () => {
  assert.equal(a.parseSubnet('10.1.0.0/16'), { base: 0x0a010000, prefix: 16, size: 65536 });
  assert.throws(() => a.parseSubnet('10.1.0/16'), /^invalid CIDR address: 10\.1\.0\/16$/);
  assert.throws(() => a.parseSubnet('10.1.0.0/33'), /^invalid CIDR address/);
  assert.throws(() => a.parseSubnet('10.1.2.3/16'), /^invalid subnet 10\.1\.2\.3\/16: it should be 10\.1\.0\.0\/16$/);
  assert.throws(() => a.parseSubnet('10.1.0.0/31'), /at most \/30/);
  try { a.parseSubnet('x'); } catch (e: any) { assert.is(e.status, 125); assert.is(e.code, 'invalid'); }
});

test('the default subnet: the first of Docker\'s pools that overlaps no route and no network; default routes do not count', () => {
  assert.is(a.DEFAULT_POOLS.length, 31);
  assert.is(a.DEFAULT_POOLS[0], '172.17.0.0/16');
  assert.is(a.DEFAULT_POOLS[14], '172.31.0.0/16');
  assert.is(a.DEFAULT_POOLS[15], '192.168.0.0/20');
  assert.is(a.DEFAULT_POOLS[16], '192.168.16.0/20');
  assert.is(a.chooseSubnet([], []), '172.17.0.0/16');
  assert.is(a.chooseSubnet(['0.0.0.0/0', '10.0.0.0/8'], []), '172.17.0.0/16');
  assert.is(a.chooseSubnet(['172.17.5.0/24'], []), '172.18.0.0/16');
  assert.is(a.chooseSubnet(['172.16.0.0/12'], []), '192.168.0.0/20');   // a route covering every 172 pool
  assert.is(a.chooseSubnet(['172.17.0.0/16'], ['172.18.0.0/16', '172.19.0.0/24']), '172.20.0.0/16');
  assert.is(a.chooseSubnet(['172.16.0.0/12', '192.168.1.0/24'], []), '192.168.16.0/20');
  assert.is(a.chooseSubnet(['172.16.0.0/12', '192.168.0.0/16'], []), undefined);
  assert.is(a.chooseSubnet(['garbage', '172.17.0.0/16'], []), '172.18.0.0/16');
});

test('overlap is any shared address', () => {
  const o = (x: string, y: string) => a.overlaps(a.parseRange(x)!, a.parseRange(y)!);
  assert.ok(o('10.0.0.0/8', '10.1.2.0/24'));
  assert.ok(o('10.1.2.0/24', '10.0.0.0/8'));
  assert.ok(o('10.0.0.0/24', '10.0.0.255/32'));
  assert.not.ok(o('10.0.0.0/24', '10.0.1.0/24'));
  assert.not.ok(o('192.168.0.0/20', '192.168.16.0/20'));
});

test('gateways: the first address, or the user\'s inside the subnet and not its network or broadcast address', () => {
  assert.is(a.gatewayFor('172.17.0.0/16'), '172.17.0.1');
  assert.is(a.gatewayFor('10.9.0.0/24', '10.9.0.254'), '10.9.0.254');
  assert.throws(() => a.gatewayFor('10.9.0.0/24', '10.8.0.1'), /^no matching subnet for gateway 10\.8\.0\.1$/);
  assert.throws(() => a.gatewayFor('10.9.0.0/24', '10.9.0.255'), /network or broadcast address/);
  assert.throws(() => a.gatewayFor('10.9.0.0/24', '10.9.0.0'), /network or broadcast address/);
  assert.throws(() => a.gatewayFor('10.9.0.0/24', 'x'), /invalid gateway address: x/);
});

test('allocation: first free after the gateway, skipping network and broadcast; then before a mid-subnet gateway; full is an error', () => {
  const used = new Set<string>();
  assert.is(a.pickAddress('172.17.0.0/16', '172.17.0.1', used), '172.17.0.2');
  used.add('172.17.0.2'); used.add('172.17.0.3');
  assert.is(a.pickAddress('172.17.0.0/16', '172.17.0.1', used), '172.17.0.4');
  used.delete('172.17.0.2');
  assert.is(a.pickAddress('172.17.0.0/16', '172.17.0.1', used), '172.17.0.2', 'a released address is reused first');
  assert.is(a.pickAddress('10.0.0.0/30', '10.0.0.1', new Set()), '10.0.0.2');
  assert.throws(() => a.pickAddress('10.0.0.0/30', '10.0.0.1', new Set(['10.0.0.2'])), /no available IPv4 addresses on this network's address pools \(10\.0\.0\.0\/30\)/);
  assert.is(a.pickAddress('10.0.0.0/29', '10.0.0.6', new Set()), '10.0.0.1', 'after .6 comes only the broadcast .7');
  assert.is(a.pickAddress('10.0.0.0/29', '10.0.0.5', new Set()), '10.0.0.6');
});

test('--ip: inside the subnet, a host address, not the gateway, not taken (Docker\'s words)', () => {
  const used = new Set(['10.5.0.7']);
  assert.is(a.pickAddress('10.5.0.0/24', '10.5.0.1', used, '10.5.0.9'), '10.5.0.9');
  assert.throws(() => a.pickAddress('10.5.0.0/24', '10.5.0.1', used, '10.6.0.9'), /^no configured subnet or ip-range contain the IP address 10\.6\.0\.9$/);
  assert.throws(() => a.pickAddress('10.5.0.0/24', '10.5.0.1', used, '10.5.0.255'), /no configured subnet/);
  assert.throws(() => a.pickAddress('10.5.0.0/24', '10.5.0.1', used, '10.5.0.7'), /^Address already in use$/);
  assert.throws(() => a.pickAddress('10.5.0.0/24', '10.5.0.1', used, '10.5.0.1'), /^Address already in use$/);
  assert.throws(() => a.pickAddress('10.5.0.0/24', '10.5.0.1', used, '10.5.0'), /invalid IPv4 address/);
});

test('MACs: Docker\'s 02:42 and the address; --mac-address checked and lowercased', () => {
  assert.is(a.macFor('172.17.0.2'), '02:42:ac:11:00:02');
  assert.is(a.macFor('192.168.16.255'), '02:42:c0:a8:10:ff');
  assert.is(a.checkMac('92:D0:C6:0A:29:33'), '92:d0:c6:0a:29:33');
  for (const bad of ['92:d0:c6:0a:29', '92-d0-c6-0a-29-33', '92:d0:c6:0a:29:3g', '01:00:5e:00:00:01'])
    assert.throws(() => a.checkMac(bad), /is not a valid mac address/, bad);
});

test('link names: box0 for the default store, box+6 hex per other store, br-+12 hex per user network, vb+11 hex per container, all ≤ 15', () => {
  assert.is(a.defaultBridgeName('/var/lib/box'), 'box0');
  const t1 = a.defaultBridgeName('/tmp/box-test-1'), t2 = a.defaultBridgeName('/tmp/box-test-2');
  assert.match(t1, /^box[0-9a-f]{6}$/);
  assert.is.not(t1, t2);
  assert.is(a.defaultBridgeName('/tmp/box-test-1'), t1, 'stable per store');
  const id = 'f'.repeat(8) + '0123456789abcdef'.repeat(3) + '01234567';
  assert.is(a.userBridgeName(id), 'br-ffffffff0123');
  assert.is(a.hostIfFor(id, new Set()), 'vbffffffff012');
  assert.is(a.hostIfFor(id, new Set(['vbffffffff012'])), 'vbffffffff012-1');
  assert.is(a.hostIfFor(id, new Set(['vbffffffff012', 'vbffffffff012-1'])), 'vbffffffff012-2');
  for (const n of [t1, a.userBridgeName(id), a.hostIfFor(id, new Set(['vbffffffff012']))]) assert.ok(n.length <= 15, n);
});

test.run();
