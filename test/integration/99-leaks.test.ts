// Runs last: after the whole suite, box has left nothing on the host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';
import { boxCgroups, stateEntries, boxMounts, STATE } from '../helpers/box';

test('no cgroup, mount, state entry or stage process of box remains', () => {
  assert.equal(boxCgroups(), []);
  // and the per-root parent itself (/box-<hash of BOX_ROOT>) once empty
  const parent = 'box-' + crypto.createHash('sha256').update(STATE).digest('hex').slice(0, 8);
  const left = fs.readdirSync('/sys/fs/cgroup').flatMap((h) => { try { return fs.readdirSync(`/sys/fs/cgroup/${h}`).filter((d) => d === parent).map((d) => `${h}/${d}`); } catch { return []; } });
  assert.equal(left, []);
  assert.equal(boxMounts(), []);
  assert.equal(stateEntries(), []);
  const stages = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      if (/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${p}/stat`, 'utf8'))) return false; // exited, awaiting the host's reaper
      return /\b__init\b|\b__exec\b|box-init|box-supervise/.test(fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch { return false; }
  });
  assert.equal(stages, []);
});

test.after(() => fs.rmSync(STATE, { recursive: true, force: true }));
test.run();
