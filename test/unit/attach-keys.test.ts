// box attach's client logic without a container: Docker's detach-key syntax, the escape
// proxy (a key prefix held back until it completes or breaks), and the supervisor's framing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detachKeys, escaper } from '../../lib/cli/attach';
import { frame, deframer, FRAME } from '../../lib/supervisor/attach';

test('detach keys as Docker spells them', () => {
  assert.equal([...detachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.equal([...detachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')], [0, 27, 28, 29, 30, 31]);
  assert.equal([...detachKeys('a,CTRL-B')], [97, 2]);
  for (const bad of ['', 'ctrl-', 'ctrl-1', 'ctrl-pp', 'ab', 'shift-a']) assert.throws(() => detachKeys(bad), /Invalid detach keys/, bad);
});

test('the escape proxy holds a prefix back, passes it on when the sequence breaks, detaches on the whole', () => {
  const run = (chunks: string[]) => {
    let out = '', detached = false;
    const feed = escaper(Buffer.from([16, 17]), (b) => { out += b.toString('latin1'); }, () => { detached = true; });
    for (const c of chunks) { if (detached) break; feed(Buffer.from(c, 'latin1')); }
    return { out, detached };
  };
  assert.equal(run(['ab\x10', 'c']), { out: 'ab\x10c', detached: false });
  assert.equal(run(['ab\x10', '\x11', 'zz']), { out: 'ab', detached: true });
  assert.equal(run(['\x10\x10\x11']), { out: '\x10', detached: true });
  assert.equal(run(['x\x10\x11y']), { out: 'x', detached: true });
});

test('frames survive being cut anywhere; an oversized one is refused', () => {
  const bytes = Buffer.concat([frame(FRAME.STDOUT, Buffer.from('hello')), frame(FRAME.CONTROL, { exit: 3 })]);
  const got: [number, string][] = [];
  const feed = deframer((t, p) => got.push([t, p.toString()]));
  for (const b of bytes) assert.ok(feed(Buffer.from([b])));
  assert.equal(got, [[FRAME.STDOUT, 'hello'], [FRAME.CONTROL, '{"exit":3}']]);
  const big = Buffer.alloc(5); big[0] = 0; big.writeUInt32BE(64 << 20, 1);
  assert.not.ok(deframer(() => {})(big));
});

test.run();
