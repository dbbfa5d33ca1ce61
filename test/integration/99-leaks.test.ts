// Runs last: after the whole suite, box has left nothing on the host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { boxCgroups, cgroupParents, stateEntries, boxMounts, STATE } from '../helpers/box';

test('no cgroup, mount, state entry or stage process of box remains', () => {
  assert.equal(boxCgroups(), []);
  // and the per-root parent itself (/box-<hash of BOX_ROOT>) once empty, in every hierarchy (v1 and v2)
  assert.equal(cgroupParents().filter((d) => fs.existsSync(d)), []);
  assert.equal(boxMounts(), []);
  assert.equal(stateEntries(), []);
  // the index of live containers that collection reads (lib/state/live.ts) is empty too
  let live: string[] = [];
  try { live = fs.readdirSync(`${STATE}/live`).filter((e) => !e.startsWith('.')); } catch { /* never made */ }
  assert.equal(live, []);
  const stages = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      if (/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${p}/stat`, 'utf8'))) return false; // exited, awaiting the host's reaper
      if (!/\b__init\b|\b__exec\b|box-init|box-supervise/.test(fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '))) return false;
      return fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(`BOX_ROOT=${STATE}`); // this suite's, not another store's
    } catch { return false; }
  });
  assert.equal(stages, []);
});

test.after(() => fs.rmSync(STATE, { recursive: true, force: true }));
test.run();
