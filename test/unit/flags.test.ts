import { volumeData } from '../../lib/state/volumes';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseRun, parseVolume } from '../../lib/options/run';
import { BoxError } from '../../lib/libc/errors';

const err = (fn: () => unknown): BoxError => {
  try { fn(); } catch (e: any) { return e; }
  throw new Error('did not throw');
};

test('options stop at IMAGE: the rest is the command, even if it looks like options', () => {
  const r = parseRun(['--rm', '-it', '-e', 'A=1', 'busybox', 'ls', '-la', '--rm']);
  assert.is(r.spec.image, 'busybox');
  assert.equal(r.spec.command, ['ls', '-la', '--rm']);
  assert.ok(r.spec.rm && r.spec.tty && r.spec.stdin);
  assert.equal(r.spec.env, ['A=1']);
});

test('clusters, --opt=value, repeated options, -h is hostname', () => {
  const r = parseRun(['-ti', '--name=web', '-h', 'host1', '-eA=1', '--env', 'B=2', '-v', '/a:/b:ro', '--tmpfs', '/t:size=1m', 'busybox']);
  assert.is(r.spec.name, 'web');
  assert.is(r.spec.hostname, 'host1');
  assert.equal(r.spec.env, ['A=1', 'B=2']);
  assert.equal(r.spec.volumes, [{ source: '/a', target: '/b', readonly: true }]);
  assert.equal(r.spec.tmpfs, [{ target: '/t', options: 'size=1m' }]);
  assert.equal(r.spec.command, []);
});

test('-e KEY takes the host value or is left out; --env-file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'box-unit-'));
  fs.writeFileSync(path.join(dir, 'e'), '# c\n\nX=1\nFROMHOST\n');
  const r = parseRun(['-e', 'HOSTVAR', '-e', 'UNSET', '--env-file', path.join(dir, 'e'), 'busybox'], { HOSTVAR: 'h', FROMHOST: 'f' });
  assert.equal(r.spec.env, ['X=1', 'FROMHOST=f', 'HOSTVAR=h']);
  fs.rmSync(dir, { recursive: true });
});

test('errors name the option', () => {
  assert.is(err(() => parseRun(['--nope', 'busybox'])).message, 'box run: unknown flag: --nope');
  assert.is(err(() => parseRun(['-x', 'busybox'])).message, "box run: unknown flag: -x");
  assert.equal(parseRun(['busybox', '--name']).spec.command, ['--name'], 'after IMAGE it is the command');
  assert.is(err(() => parseRun(['--name'])).message, 'box run: flag needs an argument: --name');
  assert.is(err(() => parseRun(['--rm=yes', 'busybox'])).message, 'box run: flag does not take a value: --rm');
  assert.is(err(() => parseRun([])).message, 'box run: requires at least 1 argument: IMAGE');
  assert.is(err(() => parseRun(['--name', 'bad name', 'busybox'])).status, 125);
  assert.match(err(() => parseRun(['--cap-add', 'FOO', 'busybox'])).message, /unknown capability: "FOO"/);
  assert.match(err(() => parseRun(['-w', 'x', 'busybox'])).message, /--workdir "x"/);
});

test('volumes: absolute paths, modes, no mount over /', () => {
  assert.equal(parseVolume('/h:/c'), { source: '/h', target: '/c', readonly: false });
  assert.equal(parseVolume('/h:/c/../d:rw'), { source: '/h', target: '/d', readonly: false });
  for (const bad of ['h/x:/c', '.h:/c', '/h:c', '/h:/', '/', '/h:/c:rx', '/h:/c:ro:x']) assert.is(err(() => parseVolume(bad)).status, 125, bad);
  // Docker's named (NAME:/c) and anonymous (/c) volumes: under the store's volumes directory
  assert.equal(parseVolume('data:/c:ro'), { source: volumeData('data'), target: '/c', readonly: true, name: 'data' });
  const anon = parseVolume('/c');
  assert.ok(/^[0-9a-f]{64}$/.test(anon.name!) && anon.anonymous && anon.source === volumeData(anon.name!), JSON.stringify(anon));
});

test('--security-opt: Docker\'s spellings; a bad profile names the file and the field; others refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'box-flags-'));
  const good = path.join(dir, 'p.json'), bad = path.join(dir, 'bad.json');
  fs.writeFileSync(good, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO' }] }));
  fs.writeFileSync(bad, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_EQ' }] }] }));
  const run = (...o: string[]) => parseRun([...o.flatMap((x) => ['--security-opt', x]), 'busybox']);
  assert.is(run().spec.seccomp, 'builtin');
  assert.is(run().spec.noNewPrivileges, false);
  assert.is(run('seccomp=unconfined').spec.seccomp, 'unconfined');
  assert.is(run(`seccomp=${good}`).spec.seccomp, good);
  assert.is(run(`seccomp:${good}`).seccomp.kind, 'file');
  for (const o of ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true']) assert.is(run(o).spec.noNewPrivileges, true, o);
  assert.is(run('no-new-privileges:false').spec.noNewPrivileges, false);
  assert.match(err(() => run(`seccomp=${bad}`)).message, `seccomp profile ${bad}: syscalls[0].args[0].value:`);
  assert.match(err(() => run(`seccomp=${dir}/none.json`)).message, `seccomp profile ${dir}/none.json: no such file`);
  for (const o of ['apparmor=unconfined', 'label=disable', 'no-new-privileges=yes', 'seccomp=']) assert.is(err(() => run(o)).status, 125, o);
  fs.rmSync(dir, { recursive: true });
});

test.run();
