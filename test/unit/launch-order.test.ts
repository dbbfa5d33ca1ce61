// Starting a stage (lib/container/launch.ts) against the recording fake libc: `__init` is born
// in a new pid namespace, and box's own thread is back in the host's straight after the spawn,
// also when the spawn fails (a thread left in the new pid ns cannot create threads: the next
// async call would abort box).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeLibc } from '../fakes/libc';
import { spawnStage } from '../../lib/container/launch';
import { CLONE } from '../../lib/libc/constants';
import { EXE_FD } from '../../lib/inside/protocol';

function launch(opts: { newPidNs?: boolean }, setup: (f: FakeLibc) => void = () => {}) {
  const fake = new FakeLibc();
  setup(fake);
  fake.install();
  let error: unknown;
  try {
    spawnStage('__init', ['pipe', 'pipe', 'pipe'], opts);
  } catch (e) {
    error = e;
  } finally {
    fake.restore();
  }
  return { fake, trace: fake.trace(), error };
}

const at = (trace: string[], line: string) => { const i = trace.indexOf(line); assert.ok(i >= 0, `no "${line}" in:\n${trace.join('\n')}`); return i; };

test('launch: host pid ns fd opened, unshare(CLONE_NEWPID), spawn, then setns back to the host\'s pid ns', () => {
  const { fake, trace, error } = launch({ newPidNs: true });
  assert.is(error, undefined);
  const open = at(trace, 'open /proc/self/ns/pid');
  const unshare = at(trace, `unshare ${CLONE.NEWPID}`);
  const spawn = fake.calls.findIndex((c) => c.name === 'spawn');
  const back = at(trace, 'setns pid (back to the host)');
  assert.ok(open < unshare && unshare < spawn && spawn < back, trace.join('\n'));
  assert.is(fake.opened.get(fake.calls[back].args[0]), '/proc/self/ns/pid', 'back through the fd opened before the unshare');
  assert.is(fake.calls[back].args[1], CLONE.NEWPID);
  assert.ok(at(trace, 'close /proc/self/ns/pid') > back);
  // the stage runs from the read-only node on fd 5 and gets the socket's other end on fd 4
  const [file, , opts] = fake.calls[spawn].args;
  assert.is(file, `/proc/self/fd/${EXE_FD}`);
  assert.is(fake.opened.get(opts.stdio[4]), 'socket (stage)');
  assert.ok(at(trace, 'close socket (stage)') > spawn, 'box closes the stage\'s end after the spawn');
});

test('launch: a failed spawn still leaves box back in the host\'s pid namespace', () => {
  const { fake, trace, error } = launch({ newPidNs: true }, (f) => { f.script.spawn = () => { throw new Error('spawn EAGAIN'); }; });
  assert.match(String(error), /EAGAIN/);
  const unshare = at(trace, `unshare ${CLONE.NEWPID}`), back = at(trace, 'setns pid (back to the host)');
  assert.ok(unshare < back);
  assert.is(fake.calls[back].args[1], CLONE.NEWPID);
  assert.ok(trace.includes('close socket (stage)'));
});

test('launch: `__exec` (no new pid ns) makes no namespace call at all', () => {
  const { trace } = launch({});
  assert.not.ok(trace.some((l) => l.startsWith('unshare') || l.startsWith('setns') || l === 'open /proc/self/ns/pid'), trace.join('\n'));
  assert.ok(trace.includes('spawn /proc/self/fd/5'));
});

test.run();
