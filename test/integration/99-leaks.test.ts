// Runs last: after the whole suite, box has left nothing on the host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { boxCgroups, cgroupParents, stateEntries, boxMounts, storeProcesses, SUPERVISOR_PROCS, STATE } from '../helpers/box';

test('no cgroup, mount, state entry or stage process of box remains', async () => {
  assert.equal(boxCgroups(), []);
  // and the per-root parent itself (/box-<hash of BOX_ROOT>) once empty, in every hierarchy (v1 and v2)
  assert.equal(cgroupParents().filter((d) => fs.existsSync(d)), []);
  assert.equal(boxMounts(), []);
  assert.equal(stateEntries(), []);
  // the index of live containers that collection reads (lib/state/live.ts) is empty too
  let live: string[] = [];
  try { live = fs.readdirSync(`${STATE}/live`).filter((e) => !e.startsWith('.')); } catch { /* never made */ }
  assert.equal(live, []);
  const stages = () => storeProcesses(/\b__init\b|\b__exec\b|box-init/).concat(storeProcesses(SUPERVISOR_PROCS));
  // the shared supervisor exits once its last container is torn down: give it a moment
  for (let i = 0; i < 50 && stages().length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(stages(), []);
  let anchors: string[] = [];
  try { anchors = fs.readdirSync(`${STATE}/run/anchors`); } catch { /* never made */ }
  assert.equal(anchors, [], 'records of supervisors\' anchors');
});

test.after(() => fs.rmSync(STATE, { recursive: true, force: true }));
test.run();
