// The shared supervisor's memory: after ten quiet seconds it collects, trims malloc and pages
// out the file pages only it maps (lib/supervisor/trim.ts) — and must then work as before: the
// log it was writing, exec through the namespace fds it holds, stop; BOX_POOL=0 keeps no pool.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { box, until, STATE, ENV, removeAll, storeProcesses, SUPERVISOR_PROCS, childrenOf } from '../helpers/box';

const LOG = path.join(STATE, 'run', 'supervisor.log');
const trims = () => { try { return fs.readFileSync(LOG, 'utf8').split('\n').filter((l) => / box-supervisor: idle, trimmed: /.test(l)); } catch { return []; } };

test('after its idle trim the supervisor still logs, execs and stops its container', async () => {
  const before = trims().length;
  try {
    const r = box(['run', '-d', '--name', 'trim-a', 'busybox', 'sh', '-c', 'echo first; trap "exit 0" TERM; while :; do sleep 0.1; done']);
    assert.is(r.status, 0, r.stderr);
    await until(() => box(['logs', 'trim-a']).stdout.includes('first'), 10000, 'the first line in the log');
    const line = await until(() => trims().length > before && trims()[trims().length - 1], 40000, 'a trim line in the supervisor log');
    assert.match(line, /RSS \d+\.\d → \d+\.\d MiB \(anonymous \d+\.\d → \d+\.\d\)/);
    // exec joins through the namespace fds the supervisor keeps; what it writes to PID 1's
    // stdout (the FIFO the supervisor reads) must reach the log
    const e = box(['exec', 'trim-a', 'sh', '-c', 'echo second > /proc/1/fd/1; echo ok']);
    assert.is(e.status, 0, e.stderr);
    assert.is(e.stdout, 'ok\n');
    await until(() => box(['logs', 'trim-a']).stdout.includes('second'), 10000, 'the line written after the trim in the log');
    const s = box(['stop', '-t', '5', 'trim-a']);
    assert.is(s.status, 0, s.stderr);
    const w = box(['inspect', 'trim-a']);
    assert.is(JSON.parse(w.stdout)[0].State.ExitCode, 0, 'PID 1 handled SIGTERM');
  } finally {
    removeAll('trim-a');
  }
});

test('BOX_POOL=0 given to the first client: its supervisor keeps no pre-booted stage', async () => {
  await until(() => storeProcesses(SUPERVISOR_PROCS).length === 0, 30000, 'the previous supervisor to exit');
  try {
    const r = box(['run', '-d', '--name', 'trim-nopool', 'busybox', 'sleep', '1d'], { env: { ...ENV, BOX_POOL: '0' } });
    assert.is(r.status, 0, r.stderr);
    const [sup] = storeProcesses(/box-supervisor/);
    assert.ok(sup, 'a supervisor runs');
    const pid1 = JSON.parse(fs.readFileSync(path.join(STATE, 'containers', r.stdout.trim(), 'state.json'), 'utf8')).pid;
    await new Promise((res) => setTimeout(res, 1500)); // a pool would boot its stage by now
    assert.equal(childrenOf(sup), [pid1], 'the container, and no pooled stage');
  } finally {
    removeAll('trim-nopool');
  }
});

test.run();
