// lib/net/ipam.ts on real files in a private BOX_ROOT (no root, no netlink: the network's record
// is written by hand): 50 processes allocating at the same instant get 50 addresses, MACs and
// veth names, none twice; --ip's checks; release counts what is left; collection takes only dead
// containers' endpoints and crashed writers' temp files. Each step is a child process
// (test/fixtures/net-ipam.ts, bundled once: 50 tsx start-ups would cost seconds of CPU).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as esbuild from 'esbuild';

const TOP = path.join(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-ipam-unit-'));
const ROOT = path.join(tmp, 'store');
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const BUNDLE = path.join(tmp, 'net-ipam.js');
esbuild.buildSync({ entryPoints: [path.join(TOP, 'test/fixtures/net-ipam.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: BUNDLE, logLevel: 'error' });
const ENV = { PATH: process.env.PATH, NODE_PATH: path.join(TOP, 'node_modules'), BOX_ROOT: ROOT };

function child(...args: string[]): any {
  const r = spawnSync(process.execPath, [BUNDLE, ...args], { encoding: 'utf8', env: ENV, timeout: 30000 });
  assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}
const newId = () => crypto.randomBytes(32).toString('hex');
const NET = newId();
child('seed', NET, 'n1', '10.50.0.0/24', '10.50.0.1');
const BRIDGE = newId();
child('seed', BRIDGE, 'bridge', '172.17.0.0/16', '172.17.0.1');

test('50 processes allocating at once: 50 different addresses, MACs and veth names, Docker\'s MAC for each', async () => {
  const fifo = path.join(tmp, 'barrier');
  spawnSync('mkfifo', [fifo]);
  const hold = fs.openSync(fifo, fs.constants.O_RDWR); // a writer exists: the children's opens do not block, their reads do until it closes
  const ids = Array.from({ length: 50 }, newId);
  let ready = 0;
  const results = await new Promise<any[]>((resolve, reject) => {
    const done: any[] = [];
    for (const id of ids) {
      const p = spawn(process.execPath, [BUNDLE, 'alloc', 'n1', id], { env: { ...ENV, BARRIER: fifo }, stdio: ['ignore', 'pipe', 'inherit'] });
      let buf = '';
      p.stdout.on('data', (d) => {
        buf += d;
        if (buf.startsWith('ready\n') && !(p as any).counted) {
          (p as any).counted = true;
          if (++ready === ids.length) fs.closeSync(hold); // every child waits in read(): release them together
        }
      });
      p.on('exit', (code) => {
        if (code !== 0) return reject(new Error(`child exited ${code}`));
        done.push({ id, ...JSON.parse(buf.split('\n').filter(Boolean).pop()!) });
        if (done.length === ids.length) resolve(done);
      });
    }
  });
  for (const r of results) assert.is(r.error, undefined, r.error);
  const addrs = results.map((r) => r.address);
  assert.is(new Set(addrs).size, 50, 'unique addresses');
  assert.equal([...addrs].sort((a, b) => Number(a.split('.')[3]) - Number(b.split('.')[3])), Array.from({ length: 50 }, (_, i) => `10.50.0.${i + 2}`), 'the first 50 after the gateway');
  assert.is(new Set(results.map((r) => r.mac)).size, 50);
  assert.is(new Set(results.map((r) => r.hostIf)).size, 50);
  for (const r of results) {
    assert.is(r.mac, `02:42:0a:32:00:${Number(r.address.split('.')[3]).toString(16).padStart(2, '0')}`);
    assert.is(r.hostIf, `vb${r.id.slice(0, 11)}`);
    assert.equal({ network: r.network, networkId: r.networkId, prefix: r.prefix, gateway: r.gateway, bridge: r.bridge }, { network: 'n1', networkId: NET, prefix: 24, gateway: '10.50.0.1', bridge: `br-${NET.slice(0, 12)}` });
  }
  assert.is(child('endpoints', 'n1').length, 50);
  const index = () => fs.readdirSync(path.join(ROOT, 'networks', NET, 'containers')).sort();
  assert.equal(index(), [...ids].sort(), 'the index by container: one link each');
  for (const r of results) assert.is(fs.readlinkSync(path.join(ROOT, 'networks', NET, 'containers', r.id)), r.address);
  assert.equal(fs.readdirSync(path.join(ROOT, 'networks', NET, 'endpoints')).filter((f) => f.startsWith('.')), [], 'no temp files left');

  // release: one by one, the count of what is left; a second release is harmless
  const [a, b] = results;
  assert.is(child('release', 'n1', a.id).remaining, 49);
  assert.is(child('release', 'n1', a.id).remaining, 49);
  // the freed address is the first free one again
  const againId = newId();
  const again = child('alloc', 'n1', againId);
  assert.is(again.address, a.address);
  // the same container asking twice gets its own endpoint back
  assert.equal(child('alloc', 'n1', b.id), Object.fromEntries(Object.entries(b).filter(([k]) => k !== 'id')));

  // collection: everything but b and `again` is dead; a crashed writer's temp file goes too
  fs.writeFileSync(path.join(ROOT, 'networks', NET, 'endpoints', '.10.50.0.200.123.abc.tmp'), '{');
  const live = [b.id, againId];
  const collected = child('collect', live.join(','));
  assert.is(collected.length, 48);
  assert.equal(collected.map((c: any) => c.remaining), Array.from({ length: 48 }, (_, i) => 49 - i), 'remaining counts down to the live ones');
  assert.ok(collected.every((c: any) => c.network.id === NET && c.endpoint.containerId && !live.includes(c.endpoint.containerId)));
  assert.equal(child('endpoints', 'n1').map((e: any) => e.containerId).sort(), [...live].sort());
  assert.equal(fs.readdirSync(path.join(ROOT, 'networks', NET, 'endpoints')).filter((f) => f.startsWith('.')), []);
  assert.equal(child('collect', live.join(',')), [], 'nothing more to collect');
  assert.equal(index(), [...live].sort(), 'index entries of collected endpoints gone');

  // a crash between the endpoint file and its index entry: release still finds the file; an entry pointing nowhere is collected
  const lost = newId();
  fs.writeFileSync(path.join(ROOT, 'networks', NET, 'endpoints', '10.50.0.100'), JSON.stringify({ ...b, id: undefined, containerId: lost, address: '10.50.0.100' }));
  assert.is(child('release', 'n1', lost).remaining, 2);
  fs.symlinkSync('10.50.0.101', path.join(ROOT, 'networks', NET, 'containers', newId()));
  assert.equal(child('collect', live.join(',')), []);
  assert.equal(index(), [...live].sort());
});

test('--ip and --mac-address: Docker\'s checks; not on the default bridge', () => {
  const id = newId();
  const e = child('alloc', 'n1', id, '10.50.0.77', '92:D0:C6:0A:29:33');
  assert.is(e.address, '10.50.0.77');
  assert.is(e.mac, '92:d0:c6:0a:29:33');
  assert.equal(child('alloc', 'n1', newId(), '10.50.0.77'), { error: 'Address already in use', status: 125, code: 'conflict' });
  assert.equal(child('alloc', 'n1', newId(), '10.50.0.1'), { error: 'Address already in use', status: 125, code: 'conflict' });
  assert.equal(child('alloc', 'n1', newId(), '10.51.0.3'), { error: 'no configured subnet or ip-range contain the IP address 10.51.0.3', status: 125, code: 'invalid' });
  assert.equal(child('alloc', 'bridge', newId(), '172.17.0.9'), { error: 'user specified IP address is supported on user defined networks only', status: 125, code: 'invalid' });
  assert.match(child('alloc', 'n1', newId(), '', 'zz').error, /zz is not a valid mac address/);
  assert.match(child('alloc', 'n1', 'not-an-id').error, /invalid container id/);
  assert.equal(child('alloc', 'nope', newId()), { error: 'network nope not found', status: 125, code: 'not-found' });
  assert.is(child('release', 'n1', id).remaining, 2);
});

test.run();
