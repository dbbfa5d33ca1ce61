// run/create flags as Docker has them (lib/options/run-extra.ts), on real containers, each
// checked against what Docker does: labels in inspect, --ulimit and --oom-score-adj set in the
// stage, /dev/shm's size, --device (a new node, allowed in the devices cgroup with exactly its
// permissions), --memory-swappiness, --cidfile, --log-driver none and json-file rotation,
// --mount. The attached-run flags are checked both cold and through the store's supervisor
// (a `run -d` container keeps one alive: the run is then pooled and re-checked there).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { box, until, removeAll, STATE } from '../helpers/box';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-runflags-'));
const inspect = (ref: string) => JSON.parse(box(['inspect', ref]).stdout)[0];
const socket = path.join(STATE, 'run', 'supervisor.sock');

/** fn cold (no supervisor, as far as this suite can tell), then pooled: a detached container keeps the supervisor up. */
async function coldAndPooled(fn: (mode: string) => void) {
  fn('cold');
  const keep = box(['run', '-d', '--name', 'flags-keeper', 'busybox', 'sleep', '120']);
  assert.is(keep.status, 0, keep.stderr);
  try {
    await until(() => fs.existsSync(socket), 10000, 'the supervisor\'s socket');
    fn('pooled');
  } finally {
    removeAll('flags-keeper');
  }
}

/** A char device number no driver has (open gives ENXIO when allowed, EPERM when the cgroup denies it): safe to hand out. */
function freeMajor(): number | undefined {
  const used = new Set(fs.readFileSync('/proc/devices', 'utf8').split('Block devices:')[0].split('\n').map((l) => Number(l.trim().split(/\s+/)[0])).filter(Number.isFinite));
  for (let m = 240; m < 255; m++) if (!used.has(m)) return m;
  for (let m = 60; m < 64; m++) if (!used.has(m)) return m; // "local/experimental use"
  return undefined;
}

test('--ulimit, --oom-score-adj, --shm-size and -l in the container and in inspect, cold and pooled', async () => {
  const labels = path.join(tmp, 'labels');
  fs.writeFileSync(labels, '# a comment\nfrom.file=1\nshared=file\n');
  await coldAndPooled((mode) => {
    // -1 on fsize, not core: sudo (the README's `sudo npm test`) runs its command with a core hard
    // limit of 0, which root without CAP_SYS_RESOURCE (this host) cannot raise again
    const r = box(['run', '--rm', '--ulimit', 'nofile=100:200', '--ulimit', 'fsize=-1', '--oom-score-adj', '300', '--shm-size', '2m', 'busybox', 'sh', '-c',
      'ulimit -Sn; ulimit -Hn; ulimit -f; cat /proc/self/oom_score_adj; df -k /dev/shm | tail -1']);
    assert.is(r.status, 0, `${mode}: ${r.stderr}`);
    const lines = r.stdout.split('\n');
    assert.equal(lines.slice(0, 4), ['100', '200', 'unlimited', '300'], `${mode}: ${r.stdout}`);
    assert.match(lines[4], /\s2048\s/, `${mode}: /dev/shm is 2 MiB`);
    const dflt = box(['run', '--rm', 'busybox', 'sh', '-c', 'df -k /dev/shm | tail -1']);
    assert.match(dflt.stdout, /\s65536\s/, `${mode}: Docker's default 64m`);
    // above the hard limit root has here: refused by the stage, naming the ulimit
    const hard = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim());
    if (Number.isFinite(hard)) {
      const over = box(['run', '--rm', '--ulimit', `nofile=10:${hard + 1}`, 'busybox', 'true']);
      assert.is(over.status, 125, `${mode}: ${over.stderr}`);
      assert.match(over.stderr, /--ulimit nofile: .*hard limit/, mode);
    }
  });
  const bad = box(['run', '--rm', '--ulimit', 'nofiles=1', 'busybox', 'true']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /invalid ulimit type: nofiles/);
  const oom = box(['run', '--rm', '--oom-score-adj', '1001', 'busybox', 'true']);
  assert.is(oom.status, 125);
  assert.match(oom.stderr, /Invalid value 1001, range for oom score adj is \[-1000, 1000\]/);
  try {
    const c = box(['create', '--name', 'flags-labels', '-l', 'a=1', '--label', 'shared=flag', '--label-file', labels, '--ulimit', 'nproc=50:60', '--oom-score-adj', '10', '--shm-size', '1g', 'busybox', 'true']);
    assert.is(c.status, 0, c.stderr);
    const d = inspect('flags-labels');
    assert.equal(d.Config.Labels, { 'from.file': '1', shared: 'flag', a: '1' }, 'a -l wins over the label file');
    assert.equal(d.HostConfig.Ulimits, [{ Name: 'nproc', Hard: 60, Soft: 50 }]);
    assert.is(d.HostConfig.OomScoreAdj, 10);
    assert.is(d.HostConfig.ShmSize, 1024 ** 3);
    assert.is(box(['inspect', '-f', '{{index .Config.Labels "a"}}', 'flags-labels']).stdout, '1\n');
    assert.equal(inspect(box(['create', 'busybox', 'true']).stdout.trim()).Config.Labels, {}, 'Docker: {} without labels');
  } finally {
    removeAll('flags-labels');
    for (const id of box(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) if (inspect(id)?.Config.Cmd.join(' ') === 'true') box(['rm', id]);
  }
});

test('--device: a new node with the host\'s numbers, allowed with exactly its permissions; nothing else opens', async () => {
  const major = freeMajor();
  if (major === undefined) { console.log('  skipped: no free character major for a driverless test device'); return; }
  const node = path.join(tmp, 'nodrv');
  fs.rmSync(node, { force: true });
  assert.is(spawnSync('mknod', [node, 'c', String(major), '7']).status, 0);
  await coldAndPooled((mode) => {
    const r = box(['run', '--rm', '--device', `${node}:/dev/sub/nodrv:r`, 'busybox', 'sh', '-c',
      `stat -c '%t:%T %F' /dev/sub/nodrv; grep -c nodrv /proc/self/mountinfo; cat /dev/sub/nodrv; echo x > /dev/sub/nodrv; mknod /dev/other c ${major} 8; cat /dev/other; true`]);
    assert.is(r.status, 0, `${mode}: ${r.stderr}`);
    assert.is(r.stdout, `${major.toString(16)}:7 character special file\n0\n`, `${mode}: a node, not a bind of the host's file`);
    assert.match(r.stderr, /can't open '\/dev\/sub\/nodrv': No such device or address/, `${mode}: read allowed (ENXIO: no driver)`);
    assert.match(r.stderr, /can't create \/dev\/sub\/nodrv: Operation not permitted/, `${mode}: write not asked, denied`);
    assert.match(r.stderr, /can't open '\/dev\/other': Operation not permitted/, `${mode}: only the named device`);
    const rw = box(['run', '--rm', '--device', `${node}:/dev/nodrv`, 'busybox', 'sh', '-c', 'echo x > /dev/nodrv']);
    assert.match(rw.stderr, /No such device or address/, `${mode}: rwm by default`);
  });
  // a directory: every device node below it (Docker), at the same place below the target
  const dir = path.join(tmp, 'devdir');
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'not-a-device'), '');
  assert.is(spawnSync('mknod', [path.join(dir, 'a'), 'c', String(major), '9']).status, 0);
  assert.is(spawnSync('mknod', [path.join(dir, 'sub', 'b'), 'c', String(major), '10']).status, 0);
  const group = box(['run', '--rm', '--device', `${dir}:/dev/grp:r`, 'busybox', 'sh', '-c', "find /dev/grp | sort; stat -c '%T' /dev/grp/a /dev/grp/sub/b; cat /dev/grp/sub/b"]);
  assert.is(group.stdout, '/dev/grp\n/dev/grp/a\n/dev/grp/sub\n/dev/grp/sub/b\n9\na\n', group.stderr);
  assert.match(group.stderr, /can't open '\/dev\/grp\/sub\/b': No such device or address/, 'allowed');
  const none = box(['run', '--rm', 'busybox', 'sh', '-c', `mknod /dev/nodrv c ${major} 7; cat /dev/nodrv`]);
  assert.match(none.stderr, /Operation not permitted/, 'without --device the number is denied');
  for (const [arg, want] of [[path.join(tmp, 'labels'), /adding custom device ".*labels": not a device node/], ['/no/such/dev', /adding custom device "\/no\/such\/dev": no such file or directory/], [`${node}:/dev/x:rwx`, /bad mode specified: rwx/]] as const) {
    const r = box(['run', '--rm', '--device', arg, 'busybox', 'true']);
    assert.is(r.status, 125, arg);
    assert.match(r.stderr, want);
  }
});

test('--memory-swappiness: memory.swappiness on cgroup v1; Docker\'s warning on v2; 0..100', () => {
  try {
    const r = box(['run', '-d', '--name', 'flags-swap', '--memory-swappiness', '17', 'busybox', 'sleep', '30']);
    assert.is(r.status, 0, r.stderr);
    const d = inspect('flags-swap');
    assert.is(d.HostConfig.MemorySwappiness, 17);
    const file = (d.Cgroups as string[]).map((c) => path.join(c, 'memory.swappiness')).find((f) => fs.existsSync(f));
    if (file) assert.is(fs.readFileSync(file, 'utf8').trim(), '17');
    else assert.match(r.stderr, /Memory swappiness discarded/, 'no such file (v2): Docker\'s warning');
  } finally {
    removeAll('flags-swap');
  }
  const bad = box(['run', '--rm', '--memory-swappiness', '101', 'busybox', 'true']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /Valid memory swappiness range is 0-100/);
});

test('--cidfile: the full id written; an existing file refused with Docker\'s words (125); removed when create fails', () => {
  const cid = path.join(tmp, 'cid');
  fs.rmSync(cid, { force: true });
  const r = box(['run', '--rm', '--cidfile', cid, 'busybox', 'true']);
  assert.is(r.status, 0, r.stderr);
  assert.match(fs.readFileSync(cid, 'utf8'), /^[0-9a-f]{64}$/);
  const again = box(['run', '--rm', '--cidfile', cid, 'busybox', 'true']);
  assert.is(again.status, 125);
  assert.match(again.stderr, new RegExp(`Container ID file found, make sure the other container isn't running or delete ${cid}`));
  fs.rmSync(cid);
  const c = box(['create', '--cidfile', cid, 'busybox', 'true']);
  assert.is(c.status, 0, c.stderr);
  assert.is(fs.readFileSync(cid, 'utf8'), c.stdout.trim());
  box(['rm', c.stdout.trim()]);
  fs.rmSync(cid);
  const failed = box(['run', '--rm', '--cidfile', cid, 'no-such-image-here', 'true']);
  assert.is(failed.status, 125);
  assert.not.ok(fs.existsSync(cid), 'a failed create leaves no cidfile');
});

test('--log-driver none: no log, and logs says the driver cannot be read; json-file rotation with max-size/max-file', async () => {
  try {
    const none = box(['run', '-d', '--name', 'flags-nolog', '--log-driver', 'none', 'busybox', 'echo', 'hi']);
    assert.is(none.status, 0, none.stderr);
    await until(() => inspect('flags-nolog').State.Status === 'exited', 10000, 'exit');
    const l = box(['logs', 'flags-nolog']);
    assert.is(l.status, 1);
    assert.match(l.stderr, /configured logging driver does not support reading/);
    assert.equal(fs.readdirSync(path.join(STATE, 'containers', inspect('flags-nolog').Id)).filter((f) => f.includes('json.log')), []);
    const rot = box(['run', '-d', '--name', 'flags-rot', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done']);
    assert.is(rot.status, 0, rot.stderr);
    const id = inspect('flags-rot').Id;
    await until(() => inspect('flags-rot').State.Status === 'exited', 10000, 'exit');
    await until(() => box(['logs', 'flags-rot']).stdout.endsWith('line 199\n'), 5000, 'the last line');
    const files = fs.readdirSync(path.join(STATE, 'containers', id)).filter((f) => f.includes('json.log')).sort();
    assert.equal(files, [`${id}-json.log`, `${id}-json.log.1`, `${id}-json.log.2`], 'Docker\'s names, max-file 3');
    for (const f of files) assert.ok(fs.statSync(path.join(STATE, 'containers', id, f)).size < 1000 + 100, `${f}: at most one record over max-size (1k = 1000 bytes)`);
    const out = box(['logs', 'flags-rot']).stdout.split('\n').filter(Boolean);
    const first = Number(out[0].split(' ')[1]);
    assert.ok(first > 0, 'the oldest lines were rotated away');
    assert.equal(out, Array.from({ length: 200 - first }, (_, i) => `line ${first + i}`), 'the rotated files read in order');
    assert.is(box(['logs', '--tail', '2', 'flags-rot']).stdout, 'line 198\nline 199\n');
    assert.equal(inspect('flags-rot').HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '1k', 'max-file': '3' } });
    // logs -f while the log rotates (every ~3 lines here): no line lost or repeated across the rotations
    const slow = box(['run', '-d', '--name', 'flags-follow', '--log-opt', 'max-size=200', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', 'sleep 0.3; i=0; while [ $i -lt 40 ]; do echo "line $i"; i=$((i+1)); sleep 0.05; done']);
    assert.is(slow.status, 0, slow.stderr);
    const followed = box(['logs', '-f', 'flags-follow'], { timeout: 30000 }).stdout.split('\n').filter(Boolean);
    const from = Number(followed[0]?.split(' ')[1]);
    assert.equal(followed, Array.from({ length: 40 - from }, (_, i) => `line ${from + i}`), followed.join(','));
    assert.ok(from < 5, `followed from the start (line ${from})`);
  } finally {
    removeAll('flags-nolog', 'flags-rot', 'flags-follow');
  }
  const bad = box(['run', '--rm', '--log-driver', 'syslog', 'busybox', 'true']);
  assert.is(bad.status, 125);
  assert.match(bad.stderr, /logging driver "syslog" is not supported/);
});

test('--mount: bind (read-only), tmpfs with size and mode; unknown keys and missing sources refused', () => {
  const dir = path.join(tmp, 'bindme');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'f'), 'from host\n');
  const r = box(['run', '--rm', '--mount', `type=bind,source=${dir},target=/b,readonly`, '--mount', 'type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=700', 'busybox', 'sh', '-c',
    'cat /b/f; touch /b/x 2>/dev/null || echo ro; stat -c %a /t; df -k /t | tail -1']);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines.slice(0, 3), ['from host', 'ro', '700']);
  assert.match(lines[3], /\s1024\s/);
  for (const [arg, want] of [
    [`type=bind,source=${dir},target=/b,colour=red`, /unexpected key 'colour' in 'colour=red'/],
    [`type=bind,source=${dir}/nope,target=/b`, /bind source path does not exist/],
    ['type=bind,source=/tmp', /target is required/],
    ['type=disk,target=/x', /invalid mount type: disk/],
  ] as const) {
    const b = box(['run', '--rm', '--mount', arg, 'busybox', 'true']);
    assert.is(b.status, 125, arg);
    assert.match(b.stderr, want, arg);
  }
  assert.not.ok(fs.existsSync(`${dir}/nope`), '--mount never creates the host path');
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
