// The wire form of an attached `box run` handed to the supervisor (run-client.ts runMessage)
// and the supervisor's check of it (run-request.ts): what parseRun made comes through whole;
// anything a client could get wrong or forge — names, paths, types — is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRun } from '../../lib/options/run';
import { runMessage } from '../../lib/supervisor/run-client';
import { checkRunRequest } from '../../lib/supervisor/run-request';

const HOST = { ncpu: 2, cpus: [0, 1], mems: [0] };
const wire = (args: string[], env: NodeJS.ProcessEnv = {}) => JSON.parse(JSON.stringify(runMessage(parseRun(args, env, HOST), [1, 2])));
const refused = (mutate: (m: any) => void, what: RegExp) => {
  const m = wire(['--name', 'web', '-v', '/srv:/data:ro', '--tmpfs', '/run:size=1m', 'busybox', 'true']);
  mutate(m);
  assert.throws(() => checkRunRequest(m.runAttached, m.imagePath), what);
};

test('a parsed request comes through the wire as parseRun made it', () => {
  const args = ['--name', 'web', '-e', 'A=1', '-e', 'HOME', '-v', '/srv/../srv:/data:ro', '--tmpfs', '/run:size=1m', '--cap-drop', 'NET_RAW', '--cpus', '1.5', '-m', '64m', '--stop-signal', 'USR1', '-w', '/tmp', '-u', '1000', 'busybox', 'sh', '-c', 'exit 3'];
  const req = parseRun(args, { HOME: '/home/client' }, HOST);
  const m = wire(args, { HOME: '/home/client' });
  assert.equal(m.stdio, [1, 2]);
  const { help: _h, ...want } = req as any;
  assert.equal(JSON.parse(JSON.stringify(checkRunRequest(m.runAttached, m.imagePath))), JSON.parse(JSON.stringify(want)));
  assert.ok(m.runAttached.spec.env.includes('HOME=/home/client'), 'the client\'s value of -e NAME');
});

test('a relative image path travels as the client\'s absolute path; one that does not exist is refused in resolveImage\'s words', () => {
  const m = wire(['./test', 'true']); // the repository's test/ directory, from its top (uvu's cwd)
  assert.is(m.imagePath, `${process.cwd()}/test`);
  assert.is(checkRunRequest(m.runAttached, m.imagePath).spec.image, `${process.cwd()}/test`);
  const gone = wire(['./no-such-rootfs', 'true']);
  assert.is(gone.imagePath, undefined);
  assert.throws(() => checkRunRequest(gone.runAttached, gone.imagePath), /^box run: image "\.\/no-such-rootfs": no such file or directory$/);
  const again = wire(['./test', 'true']);
  assert.throws(() => checkRunRequest(again.runAttached, 'relative/path'), /image path/, 'never resolved in the supervisor\'s cwd');
});

test('names, paths and types the client could forge are refused', () => {
  refused((m) => { m.runAttached.spec.name = '../../etc'; }, /\(name\)/);
  refused((m) => { m.runAttached.spec.hostname = 'a b'; }, /\(hostname\)/);
  refused((m) => { m.runAttached.spec.volumes[0].source = 'srv'; }, /\(volume\)/);
  refused((m) => { m.runAttached.spec.volumes[0].source = '/srv/../etc'; }, /\(volume\)/);
  refused((m) => { m.runAttached.spec.volumes[0].target = '/'; }, /invalid volume/);
  refused((m) => { m.runAttached.spec.tmpfs[0].options = 'size=1m,uid=0;x'; }, /invalid tmpfs/);
  refused((m) => { m.runAttached.spec.workdir = 'tmp'; }, /\(workdir\)/);
  refused((m) => { m.runAttached.spec.env = ['=x']; }, /\(env\)/);
  refused((m) => { m.runAttached.spec.command = ['sh', 1]; }, /\(command\)/);
  refused((m) => { m.runAttached.spec.capabilities = ['SYS_ADMIN', 'ALL']; }, /\(capabilities\)/);
  refused((m) => { m.runAttached.spec.privileged = 'yes'; }, /\(privileged\)/);
  refused((m) => { m.runAttached.spec.resources = { memory: '1g' }; }, /resources\.memory/);
  refused((m) => { m.runAttached.spec.resources = { devices: ['a *:* rwm'] }; }, /\(resources\)/);
  refused((m) => { m.runAttached.spec.stopSignal = 'TERM; rm'; }, /stopSignal/);
  refused((m) => { m.runAttached.seccomp = { kind: 'file', path: 'p.json', profile: {} }; }, /\(seccomp\)/);
  refused((m) => { m.runAttached.seccomp = { kind: 'file', path: '/p.json', profile: { defaultAction: 'SCMP_ACT_NOPE' } }; }, /\(seccomp\)/);
  refused((m) => { m.runAttached.spec.seccomp = 'unconfined'; }, /\(seccomp\)/);
  refused((m) => { m.runAttached.detach = true; }, /\(detach\)/);
  refused((m) => { m.runAttached = 'x'; }, /not a request/);
});

test.run();
