// The idle supervisor gives memory back (lib/supervisor/trim.ts): after ten quiet seconds
// it collects, trims malloc and pages out the file pages only it maps — and must then work
// as before: the log it was writing, exec through the namespace fds it holds, stop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { box, until, STATE, removeAll } from '../helpers/box';

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

test.run();
