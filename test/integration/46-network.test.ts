// `box network` and lib/net's store, IPAM and bridges against the real kernel — never in the
// host's network namespace: a holder process made by `unshare --net --mount` (its own sysfs on
// /sys) keeps a private namespace for the whole file; every ./box and fixture run enters it with
// nsenter, and the checks read it from the host through /proc/<holder>/net and
// /proc/<holder>/root/sys. The file's own stores (not the suite's: their records would outlive
// the namespace) are removed at the end, and the namespace dies with the holder.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import * as esbuild from 'esbuild';
import { TOP, BOX, needs } from '../helpers/box';

const which = (n: string) => ['/usr/bin/', '/bin/', '/usr/sbin/', '/sbin/'].map((d) => d + n).find((p) => fs.existsSync(p));
const unshare = which('unshare'), nsenter = which('nsenter');
const root = process.geteuid!() === 0;
const it = needs(test, root && !!unshare && !!nsenter, !root ? 'needs root' : 'unshare(1) or nsenter(1) is missing');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-net-test-'));
const STORE = path.join(tmp, 'a'), STORE_B = path.join(tmp, 'b');
let holder: ChildProcess | undefined;
const kill = () => { try { holder?.kill('SIGKILL'); } catch { /* gone */ } };
process.on('exit', kill);
test.after(() => { kill(); fs.rmSync(tmp, { recursive: true, force: true }); });

/** The holder: PID of a `sleep` that is the namespace's only process (unshare execs, no fork). */
async function ns(): Promise<number> {
  if (holder) return holder.pid!;
  holder = spawn(unshare!, ['--net', '--mount', 'sh', '-c', 'mount -t sysfs sysfs /sys && echo ready && exec sleep 3600'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder!.stdout!.once('data', () => resolve());
    holder!.once('exit', (c) => reject(new Error(`the namespace holder exited ${c}`)));
  });
  // not the host's: a namespace of its own
  assert.is.not(fs.readlinkSync(`/proc/${holder.pid}/ns/net`), fs.readlinkSync('/proc/self/ns/net'));
  return holder.pid!;
}

const inNs = (pid: number, cmd: string[]) => [nsenter!, ['-t', String(pid), '--net', '--mount', ...cmd]] as const;
function box(pid: number, args: string[], store = STORE) {
  const [c, a] = inNs(pid, [process.execPath, '--', BOX, ...args]);
  const r = spawnSync(c, a, { encoding: 'utf8', timeout: 60000, env: { ...process.env, BOX_ROOT: store } });
  return { status: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

// lib/net's own operations in a child (test/fixtures/net-ipam.ts), bundled once
let bundle: string | undefined;
function fixture(): string {
  if (bundle) return bundle;
  bundle = path.join(tmp, 'net-ipam.js');
  esbuild.buildSync({ entryPoints: [path.join(TOP, 'test/fixtures/net-ipam.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'error' });
  return bundle;
}
const fixtureEnv = (store: string) => ({ PATH: process.env.PATH, NODE_PATH: path.join(TOP, 'node_modules'), BOX_ROOT: store });
function lib(pid: number, store: string, ...args: string[]): any {
  const [c, a] = inNs(pid, [process.execPath, fixture(), ...args]);
  const r = spawnSync(c, a, { encoding: 'utf8', timeout: 30000, env: fixtureEnv(store) });
  assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** `n` fixture runs started at one instant (a FIFO's EOF releases them), their JSON results. */
async function together(pid: number, store: string, argsOf: (i: number) => string[], n: number): Promise<any[]> {
  const fifo = path.join(tmp, `barrier-${crypto.randomBytes(4).toString('hex')}`);
  assert.is(spawnSync('mkfifo', [fifo]).status, 0);
  const hold = fs.openSync(fifo, fs.constants.O_RDWR);
  let ready = 0;
  const runs = Array.from({ length: n }, (_, i) => new Promise<any>((resolve, reject) => {
    const [c, a] = inNs(pid, [process.execPath, fixture(), ...argsOf(i)]);
    const p = spawn(c, a, { env: { ...fixtureEnv(store), BARRIER: fifo }, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '', counted = false;
    p.stdout!.on('data', (d) => {
      buf += d;
      if (!counted && buf.startsWith('ready\n')) { counted = true; if (++ready === n) fs.closeSync(hold); }
    });
    p.on('exit', (code) => code === 0 ? resolve(JSON.parse(buf.trim().split('\n').pop()!)) : reject(new Error(`${argsOf(i).join(' ')} exited ${code}`)));
  }));
  return Promise.all(runs);
}

/** What the namespace has, read from the host: links (sysfs), routes (/proc/PID/net/route), local addresses (fib_trie). */
function links(pid: number): string[] { return fs.readdirSync(`/proc/${pid}/root/sys/class/net`).sort(); }
function link(pid: number, name: string) {
  const d = `/proc/${pid}/root/sys/class/net/${name}`;
  if (!fs.existsSync(d)) return undefined;
  return { bridge: fs.existsSync(`${d}/bridge`), up: (Number(fs.readFileSync(`${d}/flags`, 'utf8')) & 1) === 1 };
}
const hexIp = (h: string) => [...Buffer.from(h, 'hex')].reverse().join('.'); // /proc/net/route: little-endian hex
function routes(pid: number): string[] {
  return fs.readFileSync(`/proc/${pid}/net/route`, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')).map((f) => {
    const mask = Buffer.from(f[7], 'hex').readUInt32LE(0);
    return `${hexIp(f[1])}/${mask.toString(2).split('1').length - 1} dev ${f[0]}`;
  }).sort();
}
const hasLocal = (pid: number, ip: string) => new RegExp(`\\|-- ${ip.replace(/\./g, '\\.')}\\n\\s+/32 host LOCAL`).test(fs.readFileSync(`/proc/${pid}/net/fib_trie`, 'utf8'));
const records = (store: string) => { try { return fs.readdirSync(path.join(store, 'networks')).sort(); } catch { return []; } };

it('ls makes the default network on first use: its own bridge (box + 6 hex for this store), the first free pool, gateway up', async () => {
  const pid = await ns();
  assert.equal(links(pid), ['lo']);
  const r = box(pid, ['network', 'ls']);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^NETWORK ID\s{3,}NAME\s{3,}DRIVER\s{3,}SCOPE$/);
  assert.match(lines[1], /^[0-9a-f]{12}\s+bridge\s+bridge\s+local$/);
  assert.is(lines.length, 2);
  const [d] = JSON.parse(box(pid, ['network', 'inspect', 'bridge']).stdout);
  const br = d.Options['com.docker.network.bridge.name'];
  assert.match(br, /^box[0-9a-f]{6}$/);
  assert.is.not(br, 'box0', 'box0 is the default store\'s only');
  assert.equal(d.IPAM.Config, [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }]);
  assert.equal(link(pid, br), { bridge: true, up: true });
  assert.ok(routes(pid).includes(`172.17.0.0/16 dev ${br}`), routes(pid).join('; '));
  assert.ok(hasLocal(pid, '172.17.0.1'), 'the gateway is the bridge\'s address');
  assert.is(box(pid, ['network', 'ls', '-q']).stdout, `${d.Id.slice(0, 12)}\n`);
  assert.is(box(pid, ['network', 'ls', '-q', '--no-trunc']).stdout, `${d.Id}\n`);
  const info = box(pid, ['info']).stdout;
  assert.match(info, new RegExp(`^Network:\\s+default bridge ${br}, 172\\.17\\.0\\.0/16$`, 'm'));
});

it('info does not make the default network: it says what it would be', async () => {
  const pid = await ns();
  const fresh = path.join(tmp, 'fresh');
  const r = box(pid, ['info'], fresh);
  assert.is(r.status, 0, r.stderr);
  // 172.17 is routed here now (the other store's bridge): the next pool
  assert.match(r.stdout, /^Network:\s+default bridge not made yet, would be box[0-9a-f]{6}, 172\.18\.0\.0\/16$/m);
  assert.equal(records(fresh), []);
  assert.equal(links(pid).filter((l) => l.startsWith('box')).length, 1);
});

it('create: the id, a bridge br-<12 hex> with the gateway; --subnet/--gateway/--label; inspect as Docker\'s', async () => {
  const pid = await ns();
  const a = box(pid, ['network', 'create', 'n1']);
  assert.is(a.status, 0, a.stderr);
  assert.match(a.stdout, /^[0-9a-f]{64}\n$/);
  const id1 = a.stdout.trim();
  const b = box(pid, ['network', 'create', '--subnet', '10.99.0.0/24', '--gateway', '10.99.0.254', '--label', 'k=v', '-d', 'bridge', 'n2']);
  assert.is(b.status, 0, b.stderr);
  const [n1, n2] = JSON.parse(box(pid, ['network', 'inspect', 'n1', b.stdout.trim().slice(0, 6)]).stdout);
  assert.is(n1.Id, id1);
  assert.equal(n1.IPAM, { Driver: 'default', Options: null, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] });
  assert.equal(n1.Options, { 'com.docker.network.bridge.name': `br-${id1.slice(0, 12)}` });
  assert.equal({ Name: n2.Name, Scope: n2.Scope, Driver: n2.Driver, Containers: n2.Containers, Labels: n2.Labels, Config: n2.IPAM.Config },
    { Name: 'n2', Scope: 'local', Driver: 'bridge', Containers: {}, Labels: { k: 'v' }, Config: [{ Subnet: '10.99.0.0/24', Gateway: '10.99.0.254' }] });
  assert.ok(!Number.isNaN(Date.parse(n2.Created)));
  for (const [n, gw, subnet] of [[n1, '172.18.0.1', '172.18.0.0/16'], [n2, '10.99.0.254', '10.99.0.0/24']]) {
    const br = n.Options['com.docker.network.bridge.name'];
    assert.equal(link(pid, br), { bridge: true, up: true }, br);
    assert.ok(routes(pid).includes(`${subnet} dev ${br}`), routes(pid).join('; '));
    assert.ok(hasLocal(pid, gw), gw);
  }
  assert.match(box(pid, ['network', 'ls']).stdout, /\bbridge\b[\s\S]*\bn1\b[\s\S]*\bn2\b/);
  assert.is(box(pid, ['network', 'ls', '--format', 'table {{.Name}}\t{{.Driver}}', '-f', 'type=custom']).stdout, 'NAME      DRIVER\nn1        bridge\nn2        bridge\n');
  assert.is(box(pid, ['network', 'ls', '-q', '-f', 'label=k=v']).stdout, `${n2.Id.slice(0, 12)}\n`);
  assert.is(box(pid, ['network', 'ls', '--format', '{{.Name}}', '-f', 'name=n', '-f', 'driver=bridge']).stdout, 'n1\nn2\n');
  assert.is(box(pid, ['network', 'inspect', '-f', '{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}} {{.Labels}}', 'n2']).stdout, 'n2 10.99.0.0/24 map[k:v]\n');
});

it('refused with exit 125 and nothing made: an overlapping subnet, a name taken, a bad CIDR or gateway, another driver', async () => {
  const pid = await ns();
  const before = { links: links(pid), records: records(STORE), routes: routes(pid) };
  const refused: [string[], RegExp][] = [
    [['--subnet', '10.99.0.128/25', 'n3'], /^box network create: Pool overlaps with other one on this address space$/],
    [['--subnet', '172.16.0.0/12', 'n3'], /Pool overlaps/],
    [['n1'], /^box network create: network with name n1 already exists$/],
    [['bridge'], /network with name bridge already exists/],
    [['host'], /operation is not permitted on predefined host network/],
    [['--subnet', '10.98.0/24', 'n3'], /^box network create: invalid CIDR address: 10\.98\.0\/24$/],
    [['--subnet', '10.98.0.1/24', 'n3'], /invalid subnet 10\.98\.0\.1\/24: it should be 10\.98\.0\.0\/24/],
    [['--subnet', '10.98.0.0/24', '--gateway', '10.97.0.1', 'n3'], /no matching subnet for gateway 10\.97\.0\.1/],
    [['--gateway', '10.98.0.1', 'n3'], /every ip-range or gateway must have a corresponding subnet/],
    [['-d', 'overlay', 'n3'], /plugin "overlay" not found/],
    [['bad/name'], /invalid network name/],
  ];
  for (const [args, why] of refused) {
    const r = box(pid, ['network', 'create', ...args]);
    assert.is(r.status, 125, `${args.join(' ')}: ${r.status} ${r.stderr}`);
    assert.match(r.stderr.trim(), why, args.join(' '));
    assert.is(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.is(r.stdout, '');
  }
  assert.equal({ links: links(pid), records: records(STORE), routes: routes(pid) }, before);
  assert.equal(fs.readdirSync(path.join(STORE, 'networks')).filter((f) => f.startsWith('.')), [], 'no half-made record');
});

it('rm: the names, the bridges and their routes gone; not the default one; not while an endpoint is active', async () => {
  const pid = await ns();
  const n1 = JSON.parse(box(pid, ['network', 'inspect', 'n1']).stdout)[0];
  const br1 = n1.Options['com.docker.network.bridge.name'];
  // an endpoint on n1 (what a container start allocates): rm refuses, inspect shows it
  const cid = crypto.randomBytes(32).toString('hex');
  const ep = lib(pid, STORE, 'alloc', 'n1', cid);
  assert.equal({ address: ep.address, prefix: ep.prefix, mac: ep.mac, hostIf: ep.hostIf }, { address: '172.18.0.2', prefix: 16, mac: '02:42:ac:12:00:02', hostIf: `vb${cid.slice(0, 11)}` });
  const busy = box(pid, ['network', 'rm', 'n1']);
  assert.is(busy.status, 1);
  assert.is(busy.stderr, `box network rm: error while removing network: network n1 id ${n1.Id} has active endpoints\n`);
  assert.ok(link(pid, br1), 'still there');
  const [shown] = JSON.parse(box(pid, ['network', 'inspect', 'n1']).stdout);
  assert.equal(Object.keys(shown.Containers), [cid]);
  assert.equal({ ...shown.Containers[cid], EndpointID: undefined }, { Name: '', EndpointID: undefined, MacAddress: '02:42:ac:12:00:02', IPv4Address: '172.18.0.2/16', IPv6Address: '' });
  assert.match(shown.Containers[cid].EndpointID, /^[0-9a-f]{64}$/);
  assert.equal(lib(pid, STORE, 'release', 'n1', cid), { remaining: 0 });

  const r = box(pid, ['network', 'rm', 'n1', 'n2']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'n1\nn2\n');
  assert.is(link(pid, br1), undefined);
  assert.equal(links(pid).filter((l) => l.startsWith('br-')), []);
  assert.ok(!routes(pid).some((x) => /172\.18\.|10\.99\./.test(x)), routes(pid).join('; '));
  assert.is(records(STORE).length, 1, 'the default network\'s record only');
  const def = box(pid, ['network', 'rm', 'bridge']);
  assert.is(def.status, 1);
  assert.is(def.stderr, 'box network rm: bridge is a pre-defined network and cannot be removed\n');
  const missing = box(pid, ['network', 'rm', 'nope']);
  assert.is(missing.status, 1);
  assert.is(missing.stderr, 'box network rm: network nope not found\n');
  assert.is(box(pid, ['network', 'rm', '-f', 'nope']).status, 0);
});

it('prune: unused custom networks and their bridges go; used ones and the default stay; without -f it asks', async () => {
  const pid = await ns();
  for (const n of ['p1', 'p2']) assert.is(box(pid, ['network', 'create', n]).status, 0);
  const cid = crypto.randomBytes(32).toString('hex');
  lib(pid, STORE, 'alloc', 'p2', cid);
  const [c, a] = inNs(pid, [process.execPath, '--', BOX, 'network', 'prune']);
  const no = spawnSync(c, a, { encoding: 'utf8', input: 'n\n', env: { ...process.env, BOX_ROOT: STORE } });
  assert.match(no.stdout, /^WARNING! This will remove all custom networks not used by at least one container\.\nAre you sure you want to continue\? \[y\/N\] $/);
  assert.is(JSON.parse(box(pid, ['network', 'inspect', 'p1']).stdout).length, 1, 'kept on "n"');
  const p1 = JSON.parse(box(pid, ['network', 'inspect', 'p1']).stdout)[0].Options['com.docker.network.bridge.name'];
  const r = box(pid, ['network', 'prune', '-f']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'Deleted Networks:\np1\n');
  assert.is(link(pid, p1), undefined);
  assert.equal(box(pid, ['network', 'ls', '--format', '{{.Name}}']).stdout, 'bridge\np2\n');
  assert.equal(lib(pid, STORE, 'release', 'p2', cid), { remaining: 0 });
  assert.is(box(pid, ['network', 'prune', '-f']).stdout, 'Deleted Networks:\np2\n');
  assert.is(box(pid, ['network', 'prune', '-f']).stdout, '');
});

it('a second store in the same namespace, 10 processes making its default network at once: one record, its own bridge and subnet', async () => {
  const pid = await ns();
  const made = await together(pid, STORE_B, () => ['default'], 10);
  for (const m of made) assert.is(m.error, undefined, m.error);
  assert.is(new Set(made.map((m) => m.id)).size, 1, 'one network');
  assert.is(records(STORE_B).length, 1);
  const n = made[0];
  const a = JSON.parse(box(pid, ['network', 'inspect', 'bridge']).stdout)[0];
  assert.is.not(n.bridge, a.Options['com.docker.network.bridge.name'], 'never the other store\'s bridge');
  assert.is(n.subnet, '172.18.0.0/16', '172.17 is the other store\'s route: the next pool');
  assert.equal(link(pid, n.bridge), { bridge: true, up: true });
  assert.ok(hasLocal(pid, '172.18.0.1'));
});

it('50 processes allocating on the default network at once: 50 unique addresses; released, nothing left', async () => {
  const pid = await ns();
  const ids = Array.from({ length: 50 }, () => crypto.randomBytes(32).toString('hex'));
  const eps = await together(pid, STORE_B, (i) => ['alloc', 'bridge', ids[i]], 50);
  for (const e of eps) assert.is(e.error, undefined, e.error);
  assert.is(new Set(eps.map((e) => e.address)).size, 50);
  assert.is(new Set(eps.map((e) => e.hostIf)).size, 50);
  assert.equal(eps.map((e) => Number(e.address.split('.')[3])).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i + 2));
  assert.ok(eps.every((e) => e.address.startsWith('172.18.0.') && e.gateway === '172.18.0.1' && e.prefix === 16));
  const left = ids.map((id) => lib(pid, STORE_B, 'release', 'bridge', id).remaining);
  assert.equal(left, Array.from({ length: 50 }, (_, i) => 49 - i));
  assert.equal(lib(pid, STORE_B, 'endpoints', 'bridge'), []);
});

test.run();
