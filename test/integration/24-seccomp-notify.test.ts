// SCMP_ACT_NOTIFY: a profile's notified calls are answered by a seccomp agent on the host
// (test/fixtures/seccomp-agent.c, built here). box passes the filter's listener fd to the
// profile's listenerPath with the OCI container process state, for `run` and for `exec`;
// without an agent the container does not start, and nothing is left behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync, spawn, ChildProcess } from 'node:child_process';
import { box, needs, until, TOP, CC } from '../helpers/box';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-notify-'));
const AGENT = path.join(tmp, 'agent'), SOCK = path.join(tmp, 'agent.sock'), LOG = path.join(tmp, 'agent.log');
const cc = spawnSync(CC, ['-static', '-O', '-o', AGENT, path.join(TOP, 'test/fixtures/seccomp-agent.c')], { encoding: 'utf8' });
const notifyAvailable = /\bnotify\b/.test(box(['info']).stdout);
const it = needs(test, cc.status === 0 && notifyAvailable, cc.status !== 0 ? `cannot build the seccomp agent: ${cc.stderr || cc.error}` : 'this kernel has no SECCOMP_RET_USER_NOTIF (5.0+)');

// busybox sh sets $PPID from getppid(): the agent answers 42 instead of the kernel's 0
const PROFILE = path.join(tmp, 'notify.json');
fs.writeFileSync(PROFILE, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: SOCK, listenerMetadata: 'box-test', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_NOTIFY' }] }));

let agent: ChildProcess | undefined;
function startAgent(connections: number) {
  agent = spawn(AGENT, [SOCK, LOG, String(connections)], { stdio: 'inherit' });
  return until(() => fs.existsSync(SOCK), 5000, 'the agent\'s socket');
}
const logged = () => fs.readFileSync(LOG, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

test.after(() => {
  try { agent?.kill('SIGKILL'); } catch { /* gone */ }
  box(['rm', '-f', 'notify-exec']);
  fs.rmSync(tmp, { recursive: true, force: true });
});

it('run and exec: notified calls are answered by the agent, which got the fd with the OCI process state (control: unconfined asks the kernel)', async () => {
  assert.is(box(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', 'echo $PPID']).stdout.trim(), '0', 'control');
  await startAgent(2);
  const r = box(['run', '--rm', '--security-opt', `seccomp=${PROFILE}`, 'busybox', 'sh', '-c', 'echo $PPID']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), '42');
  const d = box(['run', '-d', '--name', 'notify-exec', '--security-opt', `seccomp=${PROFILE}`, 'busybox', 'sleep', '3600']); // removed by the after hook
  assert.is(d.status, 0, d.stderr);
  const e = box(['exec', 'notify-exec', 'sh', '-c', 'echo $PPID']);
  assert.is(e.status, 0, e.stderr);
  assert.is(e.stdout.trim(), '42');
  const [first, , third] = logged();
  assert.equal(first.fds, ['seccompFd']);
  assert.is(first.metadata, 'box-test');
  assert.ok(first.pid > 0 && first.state.pid === first.pid, JSON.stringify(first));
  assert.is(first.state.status, 'creating');
  assert.is(third.state.id, d.stdout.trim());
  assert.is(third.state.status, 'running');
});

it('no agent listening: the container does not start (exit 125, the socket named) and nothing is left', () => {
  try { agent?.kill('SIGKILL'); } catch { /* gone */ }
  fs.rmSync(SOCK, { force: true });
  const r = box(['run', '--rm', '--name', 'notify-none', '--security-opt', `seccomp=${PROFILE}`, 'busybox', 'true']);
  assert.is(r.status, 125, r.stderr);
  assert.match(r.stderr, `seccomp agent ${SOCK}`);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.not.match(box(['ps', '-a']).stdout, 'notify-none');
});

it('a notifying profile without listenerPath is refused before anything is made', () => {
  const p = path.join(tmp, 'no-listener.json');
  fs.writeFileSync(p, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_NOTIFY' }] }));
  const r = box(['run', '--rm', '--name', 'notify-bad', '--security-opt', `seccomp=${p}`, 'busybox', 'true']);
  assert.is(r.status, 125);
  assert.match(r.stderr, `seccomp profile ${p}: SCMP_ACT_NOTIFY needs listenerPath`);
  assert.not.match(box(['ps', '-a']).stdout, 'notify-bad');
});

test.run();
