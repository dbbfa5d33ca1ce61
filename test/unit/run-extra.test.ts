// run-extra.ts's flags (labels, --ulimit, --device, --mount, --log-opt, swappiness) as Docker
// parses them, the supervisor's check of them on the wire, and the json-file rotation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseRun } from '../../lib/options/run';
import { parseUlimit } from '../../lib/options/ulimits';
import { parseDevice, deviceRules } from '../../lib/options/devices';
import { parseMount } from '../../lib/options/mount-flag';
import { parseLog, mergeLabels, parseLabels } from '../../lib/options/run-extra';
import { planV1 } from '../../lib/cgroup/v1';
import { planV2 } from '../../lib/cgroup/v2';
import { runMessage } from '../../lib/supervisor/run-client';
import { checkRunRequest } from '../../lib/supervisor/run-request';
import { rotate } from '../../lib/supervisor/log-files';
import { volumeData } from '../../lib/state/volumes';

const HOST = { ncpu: 2, cpus: [0, 1], mems: [0] };
const msg = (f: () => unknown) => { try { f(); } catch (e: any) { return String(e.message); } throw new Error('did not throw'); };

test('--ulimit: Docker\'s names, soft[:hard], -1 unlimited, its messages', () => {
  assert.equal(parseUlimit('nofile=1024:2048'), { name: 'nofile', soft: 1024, hard: 2048 });
  assert.equal(parseUlimit('core=-1'), { name: 'core', soft: -1, hard: -1 });
  assert.equal(parseUlimit('nproc=10'), { name: 'nproc', soft: 10, hard: 10 });
  assert.match(msg(() => parseUlimit('nofiles=1')), /invalid ulimit type: nofiles/);
  assert.match(msg(() => parseUlimit('nofile=3:2')), /ulimit soft limit must be less than or equal to hard limit: 3 > 2/);
  assert.match(msg(() => parseUlimit('nofile')), /invalid ulimit argument: nofile/);
  assert.match(msg(() => parseUlimit('nofile=1:2:3')), /too many limit value arguments/);
});

test('--device: HOST[:CONTAINER][:PERMS]; the host node must be a device', () => {
  const chr = { isCharacterDevice: () => true, isBlockDevice: () => false, rdev: (1 << 8) | 5, mode: 0o20666, uid: 0, gid: 0 } as any;
  assert.equal(parseDevice('/dev/zero:/dev/z:r', () => chr), { source: '/dev/zero', target: '/dev/z', type: 'c', major: 1, minor: 5, mode: 0o666, uid: 0, gid: 0, permissions: 'r' });
  assert.is(parseDevice('/dev/zero:rw', () => chr).target, '/dev/zero');
  assert.is(parseDevice('/dev/zero:rw', () => chr).permissions, 'rw');
  assert.match(msg(() => parseDevice('/dev/zero:/z:rwx', () => chr)), /bad mode specified: rwx/);
  assert.match(msg(() => parseDevice('/etc/passwd')), /error gathering device information while adding custom device "\/etc\/passwd": not a device node/);
  assert.match(msg(() => parseDevice('/no/such')), /"\/no\/such": no such file or directory/);
  // a big major/minor (makedev's split encoding)
  const big = parseDevice('/x', () => ({ ...chr, rdev: 0x123456789 } as any));
  assert.equal([big.major, big.minor], [0x567, 0x123489]);
  const rules = deviceRules({ devices: [parseDevice('/dev/zero:/dev/z:rw', () => chr)] })!;
  assert.is(rules[rules.length - 1], 'c 1:5 rw');
  assert.is(deviceRules({}), undefined);
});

test('--mount: Docker\'s CSV keys onto volumes and tmpfs; unknown keys named', () => {
  assert.equal(parseMount('type=bind,source=/tmp,target=/t,readonly'), { volume: { source: '/tmp', target: '/t', readonly: true } });
  assert.equal(parseMount('type=volume,src=data,dst=/d'), { volume: { source: volumeData('data'), target: '/d', readonly: false, name: 'data' } });
  assert.equal(parseMount('type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=700'), { tmpfs: { target: '/t', options: 'size=1048576,mode=0700' } });
  assert.match(msg(() => parseMount('type=bind,source=/tmp,target=/t,colour=red')), /unexpected key 'colour' in 'colour=red'/);
  assert.match(msg(() => parseMount('type=bind,source=/no/such/dir,target=/t')), /bind source path does not exist: \/no\/such\/dir/);
  assert.match(msg(() => parseMount('type=volume,source=../x,target=/t')), /invalid characters for a local volume name/);
  assert.match(msg(() => parseMount('type=tmpfs,target=/t,source=x')), /cannot mix 'source'/);
  assert.match(msg(() => parseMount('type=bind,source=/tmp')), /target is required/);
});

test('--log-opt: json-file max-size (decimal units) and max-file; none; refusals', () => {
  assert.equal(parseLog(undefined, ['max-size=10m', 'max-file=3']), { type: 'json-file', opts: { 'max-size': '10m', 'max-file': '3' }, maxSize: 10_000_000, maxFile: 3 });
  assert.equal(parseLog('none', []), { type: 'none', opts: {} });
  assert.match(msg(() => parseLog('syslog', [])), /logging driver "syslog" is not supported/);
  assert.match(msg(() => parseLog('none', ['max-size=1k'])), /unknown log opt 'max-size' for none log driver/);
  assert.match(msg(() => parseLog('json-file', ['max-file=3'])), /max-file can only be set when max-size is set/);
});

test('flags into the spec; swappiness into v1 plans (v2: Docker\'s warning); the supervisor re-checks them', () => {
  const args = ['-l', 'a=1', '--label', 'b', '--ulimit', 'nofile=100:200', '--shm-size', '1m', '--oom-score-adj', '300', '--memory-swappiness', '10', '--log-driver', 'json-file', '--log-opt', 'max-size=1k', '--mount', 'type=tmpfs,target=/x', 'busybox', 'true'];
  const req = parseRun(args, {}, HOST);
  assert.equal(req.spec.labels, { a: '1', b: '' });
  assert.is(req.spec.shmSize, 1048576);
  assert.is(req.spec.oomScoreAdj, 300);
  assert.is(req.spec.resources.memorySwappiness, 10);
  assert.equal(req.spec.tmpfs, [{ target: '/x', options: '' }]);
  assert.ok(planV1(req.spec.resources, { devices: false }).some((w) => w.file === 'memory.swappiness' && w.value === '10'));
  assert.match(planV2(req.spec.resources).find((w) => w.file === 'memory.swappiness')!.missing!, /Memory swappiness discarded/);
  assert.match(msg(() => parseRun(['--oom-score-adj', '1001', 'busybox'])), /Invalid value 1001, range for oom score adj is \[-1000, 1000\]/);
  assert.match(msg(() => parseRun(['--memory-swappiness', '101', 'busybox'])), /Valid memory swappiness range is 0-100/);
  const wire = JSON.parse(JSON.stringify(runMessage(req, [1, 2])));
  const back = checkRunRequest(wire.runAttached, wire.imagePath);
  assert.equal(JSON.parse(JSON.stringify(back.spec)), JSON.parse(JSON.stringify(req.spec)));
  for (const [field, value] of [['ulimits', [{ name: 'nofile', soft: 5, hard: 1 }]], ['oomScoreAdj', 5000], ['shmSize', -1], ['labels', { a: 1 }], ['log', { type: 'syslog', opts: {} }], ['devices', [{ source: '/etc/passwd', target: '/dev/x', permissions: 'rwm' }]]] as const) {
    const m = JSON.parse(JSON.stringify(wire));
    m.runAttached.spec[field] = value;
    assert.throws(() => checkRunRequest(m.runAttached, m.imagePath), new RegExp(`\\(${field}\\)`), field);
  }
  const v = JSON.parse(JSON.stringify(runMessage(parseRun(['-v', 'data:/d', 'busybox', 'true'], {}, HOST), [1, 2])));
  v.runAttached.spec.volumes[0].source = '/etc';
  assert.throws(() => checkRunRequest(v.runAttached, v.imagePath), /\(volume\)/, 'a named volume\'s path is the store\'s, never another');
});

test('labels: the label file first, -l over it; the container\'s over the image\'s (Docker\'s Config.Labels)', () => {
  assert.equal(parseLabels([], ['a=1', 'b', 'a=2', 'c=x=y']), { a: '2', b: '', c: 'x=y' });
  assert.equal(mergeLabels({ a: 'image', keep: 'i' }, { a: 'mine' }), { labels: { a: 'mine', keep: 'i' } });
  assert.equal(mergeLabels(null, undefined), {});
  assert.equal(mergeLabels(undefined, { x: '' }), { labels: { x: '' } });
});

test('json-file rotation: FILE → FILE.1 → FILE.2, the oldest dropped; max-file 1 keeps none', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'box-rotate-'));
  try {
    const f = path.join(dir, 'x-json.log');
    for (const n of ['a', 'b', 'c', 'd']) { fs.writeFileSync(f, n); rotate(f, 3); }
    assert.equal(fs.readdirSync(dir).sort(), ['x-json.log.1', 'x-json.log.2']);
    assert.is(fs.readFileSync(`${f}.1`, 'utf8'), 'd');
    assert.is(fs.readFileSync(`${f}.2`, 'utf8'), 'c');
    fs.writeFileSync(f, 'e');
    rotate(f, 1);
    assert.ok(fs.existsSync(f), 'max-file 1: the caller truncates FILE itself');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
