// box cp (Docker's path rules, tar streams, -a, -L, running and stopped containers, and a
// hostile container swapping a path component for a symlink to the host while box copies),
// box rename, ps --filter, logs --since/--until, exec --env-file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tarball } from '../helpers/tar';
import { box, boxAsync, until, removeAll, needs, UNTIL_TERM, TOP, Result, CC } from '../helpers/box';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-cp-'));
const run = (name: string, script: string, flags: string[] = []) => {
  const r = box(['run', '-d', '--name', name, ...flags, 'busybox', 'sh', '-c', `${script}; ${UNTIL_TERM}`]);
  assert.is(r.status, 0, r.stderr);
};
const ok = (args: string[], opts: any = {}) => { const r = box(args, opts); assert.is(r.status, 0, `box ${args.join(' ')}: ${r.stderr}`); return r.stdout; };
const fails = (args: string[], re: RegExp, opts: any = {}) => {
  const r = box(args, opts);
  assert.is(r.status, 1, `box ${args.join(' ')} should fail: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr.trim(), re);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
};
/** box in the background, `input` on its stdin. */
function boxLater(args: string[], opts: { env?: Record<string, string>; input?: Buffer } = {}): Promise<Result> {
  const p = boxAsync(args, { env: opts.env, stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (opts.input) p.stdin!.on('error', () => {}).end(opts.input);
  let stdout = '', stderr = '';
  p.stdout!.on('data', (d) => { stdout += d; });
  p.stderr!.on('data', (d) => { stderr += d; });
  return new Promise((r) => p.on('close', (code, signal) => r({ status: code ?? -1, stdout, stderr, signal })));
}
const tarList = (buf: Buffer) => spawnSync('tar', ['-tvf', '-'], { input: buf, encoding: 'utf8' }).stdout;

test('cp out of a running container: Docker path rules, tar on stdout, -L, -a', async () => {
  try {
    run('cp-a', 'mkdir -p /d/sub && echo one > /d/f && echo two > /d/sub/g && ln -s /d/f /d/l && chown 12:34 /d/f && touch /ready');
    await until(() => box(['exec', 'cp-a', 'test', '-e', '/ready']).status === 0, 10000, 'the container to set up');
    const out = path.join(tmp, 'out1');
    fs.mkdirSync(out);
    ok(['cp', 'cp-a:/d/f', out]);                      // a file into an existing dir keeps its name
    assert.is(fs.readFileSync(path.join(out, 'f'), 'utf8'), 'one\n');
    assert.is(fs.statSync(path.join(out, 'f')).uid, 0); // without -a: the user of box
    ok(['cp', 'cp-a:/d/f', path.join(out, 'renamed')]); // onto a missing name: that name
    assert.is(fs.readFileSync(path.join(out, 'renamed'), 'utf8'), 'one\n');
    ok(['cp', '-a', 'cp-a:d/f', path.join(out, 'owned')]); // -a keeps uid:gid; a relative container path starts at /
    assert.is(`${fs.statSync(path.join(out, 'owned')).uid}:${fs.statSync(path.join(out, 'owned')).gid}`, '12:34');
    fails(['cp', 'cp-a:/d/f', path.join(out, 'nodir') + '/'], /destination directory .*must exist/);
    ok(['cp', 'cp-a:/d', path.join(out, 'newdir')]);   // a dir onto a missing name: created as that name
    assert.is(fs.readFileSync(path.join(out, 'newdir/sub/g'), 'utf8'), 'two\n');
    assert.is(fs.readlinkSync(path.join(out, 'newdir/l')), '/d/f'); // symlinks copied as symlinks
    ok(['cp', 'cp-a:/d', path.join(out, 'newdir')]);   // onto an existing dir: into it
    assert.ok(fs.existsSync(path.join(out, 'newdir/d/sub/g')));
    fs.mkdirSync(path.join(out, 'contents'));
    ok(['cp', 'cp-a:/d/.', path.join(out, 'contents')]); // "/." copies the contents
    assert.equal(fs.readdirSync(path.join(out, 'contents')).sort(), ['f', 'l', 'sub']);
    fails(['cp', 'cp-a:/d', path.join(out, 'f')], /cannot copy a directory to a file/);
    ok(['cp', 'cp-a:/d/l', path.join(out, 'nolink')]);
    assert.ok(fs.lstatSync(path.join(out, 'nolink')).isSymbolicLink());
    ok(['cp', '-L', 'cp-a:/d/l', path.join(out, 'followed')]); // -L: the target, resolved in the container
    assert.is(fs.readFileSync(path.join(out, 'followed'), 'utf8'), 'one\n');
    fails(['cp', 'cp-a:/nope', out], /Could not find the file \/nope in container cp-a/);
    fails(['cp', 'cp-a:/d', 'cp-a:/e'], /copying between containers is not supported/);
    fails(['cp', out, path.join(out, 'x')], /must specify at least one container source/);
    const tar = spawnSync(process.execPath, ['--', path.join(TOP, 'box'), 'cp', 'cp-a:/d', '-'], { env: { ...process.env, BOX_ROOT: process.env.BOX_TEST_ROOT } });
    assert.is(tar.status, 0, String(tar.stderr));
    const listing = tarList(tar.stdout);
    assert.match(listing, /^drwx.* d\/$/m);
    assert.match(listing, /^-rw-r--r-- 12\/34 .* d\/f$/m); // the stream keeps the container's owners, as Docker's
    assert.match(listing, /d\/l -> \/d\/f/);
    // a volume and a tmpfs of a running container are seen (its own mount namespace)
  } finally {
    removeAll('cp-a');
  }
});

test('cp into a running container: files, dirs, a tar on stdin, volumes and tmpfs seen', async () => {
  const vol = path.join(tmp, 'vol');
  fs.mkdirSync(vol);
  try {
    run('cp-b', 'mkdir /in && touch /ready', ['-v', `${vol}:/vol`, '--tmpfs', '/scratch']);
    await until(() => box(['exec', 'cp-b', 'test', '-e', '/ready']).status === 0, 10000, 'the container to set up');
    const src = path.join(tmp, 'src');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'a'), 'A');
    fs.writeFileSync(path.join(src, 'sub/b'), 'B');
    fs.chmodSync(path.join(src, 'a'), 0o640);
    fs.chownSync(path.join(src, 'a'), 7, 8);
    ok(['cp', path.join(src, 'a'), 'cp-b:/in']);
    assert.is(ok(['exec', 'cp-b', 'stat', '-c', '%a %u:%g', '/in/a']).trim(), '640 0:0'); // root's inside, without -a
    ok(['cp', '-a', path.join(src, 'a'), 'cp-b:/in/a2']);
    assert.is(ok(['exec', 'cp-b', 'stat', '-c', '%u:%g', '/in/a2']).trim(), '7:8');
    ok(['cp', src, 'cp-b:/in/tree']);
    assert.is(ok(['exec', 'cp-b', 'cat', '/in/tree/sub/b']), 'B');
    ok(['cp', `${src}/.`, 'cp-b:/in']);
    assert.is(ok(['exec', 'cp-b', 'cat', '/in/sub/b']), 'B');
    fails(['cp', path.join(src, 'a'), 'cp-b:/missing/x'], /Could not find the file \/missing in container cp-b/);
    ok(['cp', path.join(src, 'a'), 'cp-b:/vol/']);
    assert.is(fs.readFileSync(path.join(vol, 'a'), 'utf8'), 'A'); // through the container's volume
    ok(['cp', path.join(src, 'a'), 'cp-b:/scratch/t']);
    assert.is(ok(['exec', 'cp-b', 'cat', '/scratch/t']), 'A');     // its tmpfs
    const tar = spawnSync('tar', ['-cf', '-', '-C', src, '.'], { maxBuffer: 1 << 20 }).stdout;
    ok(['cp', '-', 'cp-b:/in/tree'], { input: tar });
    assert.is(ok(['exec', 'cp-b', 'cat', '/in/tree/a']), 'A');
    fails(['cp', '-', 'cp-b:/in/a'], /extraction point is not a directory/, { input: tar });
    // an archive naming ../ is refused, and nothing of it lands outside
    const bad = tarball([{ name: 'ok', data: 'ok' }, { name: '../../../../escaped', data: 'evil' }]);
    fails(['cp', '-', 'cp-b:/in'], /outside of the extraction point/, { input: bad });
    assert.is(box(['exec', 'cp-b', 'test', '-e', '/escaped']).status, 1);
  } finally {
    removeAll('cp-b');
  }
});

test('cp into a created container (its stage holds the root) is seen once it starts', async () => {
  try {
    ok(['create', '--name', 'cp-d', 'busybox', 'cat', '/given']);
    fs.writeFileSync(path.join(tmp, 'given'), 'given before start\n');
    ok(['cp', path.join(tmp, 'given'), 'cp-d:/given']);
    ok(['start', 'cp-d']);
    await until(() => box(['logs', 'cp-d']).stdout.includes('given before start'), 10000, 'the container to print the copied file');
  } finally {
    removeAll('cp-d');
  }
});

test('cp with a stopped container: its layer, both ways, nothing left mounted', () => {
  try {
    const r = box(['run', '--name', 'cp-c', 'busybox', 'sh', '-c', 'echo kept > /kept']);
    assert.is(r.status, 0, r.stderr);
    ok(['cp', 'cp-c:/kept', path.join(tmp, 'kept')]);
    assert.is(fs.readFileSync(path.join(tmp, 'kept'), 'utf8'), 'kept\n');
    fs.writeFileSync(path.join(tmp, 'put'), 'put');
    ok(['cp', path.join(tmp, 'put'), 'cp-c:/etc/put']);
    const back = spawnSync(process.execPath, ['--', path.join(TOP, 'box'), 'cp', 'cp-c:/etc/put', '-'], { env: { ...process.env, BOX_ROOT: process.env.BOX_TEST_ROOT } });
    assert.match(tarList(back.stdout), / put$/m);
    assert.not.match(fs.readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(process.env.BOX_TEST_ROOT!));
  } finally {
    removeAll('cp-c');
  }
});

fs.mkdirSync(path.join(tmp, 'probe'));
const cc = spawnSync(CC, ['-static', '-O', '-o', path.join(tmp, 'probe/swap'), path.join(TOP, 'test/fixtures/swap.c')], { encoding: 'utf8' });

for (const [kernel, env] of [['new kernel', {}], ['old kernel (fallbacks)', { BOX_OLD_KERNEL: '1' }]] as const) {
  needs(test, cc.status === 0, `cannot build the static swap probe: ${cc.stderr || cc.error}`)(`CVE-2018-15664 (${kernel}): a container swapping a dir and a symlink to the host while box cp runs both ways reads and writes no host file`, async () => {
    const host = path.join(tmp, `host-${Object.keys(env).length}`);
    fs.mkdirSync(host);
    fs.writeFileSync(path.join(host, 'secret'), 'host\n');
    const name = `cp-evil-${Object.keys(env).length}`;
    try {
      // /w/d is a directory with a file "secret" half of the time, a symlink to the host
      // directory the other half; the container also has its own copy of that path ("inside")
      run(name, `mkdir -p /w/d ${host} && echo container > /w/d/secret && echo inside > ${host}/secret && ln -s ${host} /w/s && ln -s / /w/root && touch /ready && exec /probe/swap /w/d /w/s /w/count`, ['-v', `${tmp}/probe:/probe:ro`]);
      await until(() => box(['exec', name, 'test', '-e', '/w/count']).status === 0, 15000, 'the swapper to run');
      // control: the container path string-joined onto its root, as CVE-2018-15664's docker cp did, reaches the host file
      const pid = ok(['inspect', '-f', '{{.State.Pid}}', name]).trim();
      assert.is(fs.readFileSync(`/proc/${pid}/root/w/root${host}/secret`, 'utf8'), 'host\n');
      const put = path.join(tmp, 'payload');
      fs.writeFileSync(put, 'payload\n');
      const seen = new Set<string>();
      const outDir = path.join(tmp, `evil-out-${Object.keys(env).length}`);
      fs.mkdirSync(outDir);
      for (let i = 0; i < 15; i++) {
        const [o, t, dir, inn, tin] = await Promise.all([
          boxLater(['cp', `${name}:/w/d/secret`, path.join(outDir, `s${i}`)], { env }),
          boxLater(['cp', `${name}:/w/root${host}/secret`, path.join(outDir, `r${i}`)], { env }),
          boxLater(['cp', `${name}:/w/d`, path.join(outDir, `d${i}`)], { env }),
          boxLater(['cp', put, `${name}:/w/d/payload${i}`], { env }),
          boxLater(['cp', '-', `${name}:/w/d/`], { env, input: spawnSync('tar', ['-cf', '-', '-C', tmp, 'payload']).stdout }),
        ]);
        void t; void dir; void inn; void tin; void o;
        // what box wrote, read without following symlinks (/w/d copied while a symlink is a symlink to the host path, rightly)
        const regular = (f: string) => { try { return fs.lstatSync(f).isFile(); } catch { return false; } };
        for (const f of [`s${i}`, `r${i}`]) if (regular(path.join(outDir, f))) seen.add(fs.readFileSync(path.join(outDir, f), 'utf8'));
        const d = path.join(outDir, `d${i}`);
        if (fs.lstatSync(d, { throwIfNoEntry: false })?.isDirectory() && regular(path.join(d, 'secret'))) seen.add(fs.readFileSync(path.join(d, 'secret'), 'utf8'));
      }
      assert.ok(Number(box(['exec', name, 'cat', '/w/count']).stdout) > 0, 'the swapper swapped');
      assert.ok(seen.size > 0, 'some copies went through');
      assert.not.ok(seen.has('host\n'), `a host file was read: ${[...seen]}`);
      assert.equal(fs.readdirSync(host), ['secret'], 'nothing was written into the host directory');
      assert.is(fs.readFileSync(path.join(host, 'secret'), 'utf8'), 'host\n');
    } finally {
      removeAll(name);
    }
  });
}

test('rename: running container, Docker\'s checks, the old name is free again', async () => {
  try {
    run('rn-a', 'true');
    run('rn-b', 'true');
    ok(['rename', 'rn-a', 'rn-c']);
    assert.is(ok(['ps', '--format', '{{.Names}}', '-f', 'name=^rn-c$']).trim(), 'rn-c');
    assert.is(ok(['inspect', '-f', '{{.Name}}', 'rn-c']).trim(), '/rn-c');
    fails(['rename', 'rn-c', 'rn-b'], /Conflict\. The container name "\/rn-b" is already in use/);
    fails(['rename', 'rn-c', 'rn-c'], /same name as its current name/);
    fails(['rename', 'rn-c', 'bad name!'], /Invalid container name \(bad name!\)/);
    fails(['rename', 'nope', 'x1'], /No such container: nope/);
    run('rn-a', 'true'); // the old name can be taken again
    box(['rm', '-f', 'rn-c']);
    assert.is(box(['inspect', 'rn-c']).status, 1);
    run('rn-c', 'true'); // and the new one was released by rm
  } finally {
    removeAll('rn-a', 'rn-b', 'rn-c');
  }
});

test('ps --filter: status, name (regexp), id prefix, ancestor, exited; ORed per key, ANDed across', () => {
  try {
    assert.is(box(['run', '--name', 'pf-x0', 'busybox', 'true']).status, 0);
    assert.is(box(['run', '--name', 'pf-x3', 'busybox', 'sh', '-c', 'exit 3']).status, 3);
    run('pf-r', 'true');
    const names = (...f: string[]) => ok(['ps', '--format', '{{.Names}}', ...f]).trim().split('\n').filter(Boolean).sort();
    assert.equal(names('-f', 'status=exited', '-f', 'name=^pf-'), ['pf-x0', 'pf-x3']);  // status shows all
    assert.equal(names('-a', '-f', 'exited=3'), ['pf-x3']);
    assert.equal(names('-a', '-f', 'name=pf-x', '-f', 'exited=0'), ['pf-x0']);
    assert.equal(names('-a', '-f', 'name=pf-r', '-f', 'name=pf-x3'), ['pf-r', 'pf-x3']);
    assert.equal(names('-f', 'status=running', '-f', 'name=^/?pf-'), ['pf-r']);
    assert.equal(names('-a', '-f', 'ancestor=busybox', '-f', 'name=pf-r'), ['pf-r']);
    assert.equal(names('-a', '-f', 'ancestor=other', '-f', 'name=pf-'), []);
    assert.equal(names('-a', '-f', 'label=nope'), []);
    const id = ok(['ps', '-q', '--no-trunc', '-f', 'name=pf-r']).trim();
    assert.is(ok(['ps', '-q', '-f', `id=${id.slice(0, 5)}`]).trim(), id.slice(0, 12));
    fails(['ps', '-f', 'color=red'], /invalid filter 'color'/);
    fails(['ps', '-f', 'status=sleepy'], /invalid filter 'status=sleepy'/);
    fails(['ps', '-f', 'justaword'], /bad format of filter/);
  } finally {
    removeAll('pf-x0', 'pf-x3', 'pf-r');
  }
});

test('logs --since/--until (RFC 3339, Unix time, durations); exec --env-file', async () => {
  try {
    run('lg-a', 'echo early; sleep 1.2; echo late');
    await until(() => box(['logs', 'lg-a']).stdout.includes('late'), 10000, 'both lines');
    const [t1, t2] = box(['logs', '-t', 'lg-a']).stdout.trim().split('\n').map((l) => l.split(' ')[0]);
    const mid = new Date((Date.parse(t1) + Date.parse(t2)) / 2);
    assert.is(ok(['logs', '--since', mid.toISOString(), 'lg-a']), 'late\n');
    assert.is(ok(['logs', '--until', mid.toISOString(), 'lg-a']), 'early\n');
    assert.is(ok(['logs', '--since', (mid.getTime() / 1000).toFixed(3), 'lg-a']), 'late\n');
    assert.is(ok(['logs', '--since', '1h', 'lg-a']), 'early\nlate\n');
    assert.is(ok(['logs', '--until', '1h', 'lg-a']), '');
    assert.is(ok(['logs', '--since', t2, '--until', t2, 'lg-a']), 'late\n'); // both bounds kept
    fails(['logs', '--since', 'yesterday', 'lg-a'], /invalid value for "since"/);
    const envFile = path.join(tmp, 'env');
    fs.writeFileSync(envFile, '# comment\nFOO=from-file\nBAR=file\n');
    assert.is(ok(['exec', '--env-file', envFile, '-e', 'BAR=flag', 'lg-a', 'sh', '-c', 'echo $FOO $BAR']), 'from-file flag\n');
    const missing = box(['exec', '--env-file', path.join(tmp, 'none'), 'lg-a', 'true']);
    assert.is.not(missing.status, 0);
    assert.match(missing.stderr, /no such file/);
  } finally {
    removeAll('lg-a');
  }
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
