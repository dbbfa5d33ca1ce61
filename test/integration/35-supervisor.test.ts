// The shared supervisor (lib/supervisor/): one Node process per store owns every detached
// container, under an anchor that keeps exit statuses when it dies; it exits when it
// supervises nothing; its containers survive its SIGKILL and the next box adopts them,
// with their output and exit codes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { box, until, STATE, removeAll, storeProcesses, SUPERVISOR_PROCS, UNTIL_TERM } from '../helpers/box';

const record = (id: string) => JSON.parse(fs.readFileSync(path.join(STATE, 'containers', id, 'state.json'), 'utf8'));
const stat = (pid: number) => { try { return fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return ''; } };
const zombie = (pid: number) => /^\S+ \(.*\) Z/.test(stat(pid));
const running = (pid: number) => stat(pid) !== '' && !zombie(pid);
const ppid = (pid: number) => Number(stat(pid).slice(stat(pid).lastIndexOf(')') + 2).split(' ')[1]);
const anchors = () => { try { return fs.readdirSync(path.join(STATE, 'run', 'anchors')); } catch { return []; } };
const detached = (args: string[]) => {
  const r = box(['run', '-d', ...args]);
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
};
const gone = () => until(() => storeProcesses(SUPERVISOR_PROCS).length === 0 && anchors().length === 0, 30000, `the supervisor and its anchor to exit (${storeProcesses(SUPERVISOR_PROCS)}, ${anchors()})`);

test('one supervisor owns every detached container, under its anchor, and exits when it owns none', async () => {
  const names = ['sv-a', 'sv-b', 'sv-c'];
  try {
    const ids = names.map((n) => detached(['--name', n, 'busybox', 'sh', '-c', UNTIL_TERM]));
    const owners = new Set(ids.map((id) => record(id).owner.pid));
    assert.is(owners.size, 1, 'one owner for all');
    const [sup] = owners;
    assert.equal(storeProcesses(/box-supervisor/), [sup]);
    const anchor = ppid(sup);
    assert.equal(storeProcesses(/box-anchor/), [anchor]);
    assert.match(fs.readFileSync(`/proc/${anchor}/cmdline`, 'utf8'), /^box-anchor\0infinity\0$/); // `sleep`, not a Node process
    for (const id of ids) assert.is(ppid(record(id).pid), sup, 'the supervisor is each container\'s parent');
    assert.is(box(['stop', ...names]).status, 0);
    await gone();
  } finally {
    removeAll(...names);
  }
});

test('SIGKILL of the supervisor: containers run on, output is kept, exit codes are recorded, the anchor is released', async () => {
  try {
    // sv-keep runs through the gap and is adopted; sv-gone exits during it (its status waits in a zombie)
    const keep = detached(['--name', 'sv-keep', 'busybox', 'sh', '-c', 'trap "echo during" USR2; trap "echo after; exit 7" USR1; echo before; while :; do sleep 0.1; done']);
    const goneId = detached(['--name', 'sv-gone', 'busybox', 'sh', '-c', 'trap "exit 9" USR1; while :; do sleep 0.1; done']);
    await until(() => box(['logs', 'sv-keep']).stdout === 'before\n', 30000, 'the first line');
    const sup = record(keep).owner.pid;
    const anchor = ppid(sup);
    process.kill(sup, 'SIGKILL');
    await until(() => !running(sup), 30000, 'the supervisor to die');
    assert.ok(running(record(keep).pid) && running(record(goneId).pid), 'both containers outlive it');
    assert.is(ppid(record(keep).pid), anchor, 'the anchor took them');
    // while nobody supervises: output goes into the container's FIFO, an exit into a zombie
    assert.is(box(['kill', '-s', 'USR2', 'sv-keep']).status, 0);
    assert.is(box(['kill', '-s', 'USR1', 'sv-gone']).status, 0);
    const gonePid = record(goneId).pid;
    await until(() => zombie(gonePid), 30000, 'sv-gone to exit');
    // any box that collects records sv-gone's exit and starts a successor that adopts sv-keep
    assert.match(box(['ps', '-a']).stdout, /Exited \(9\).*sv-gone/);
    await until(() => record(keep).owner.pid !== sup && running(record(keep).owner.pid), 30000, 'a new supervisor to adopt sv-keep');
    assert.is(box(['kill', '-s', 'USR1', 'sv-keep']).status, 0);
    await until(() => record(keep).status === 'exited', 30000, 'sv-keep to exit');
    assert.is(record(keep).exitCode, 7);
    assert.is(box(['logs', 'sv-keep']).stdout, 'before\nduring\nafter\n');
    assert.ok(!running(anchor), 'the old anchor is released once nothing it held is unread');
    await gone();
  } finally {
    removeAll('sv-keep', 'sv-gone');
  }
});

test('a created container is held by the supervisor until box start; rm of it lets the supervisor go', async () => {
  try {
    assert.is(box(['create', '--name', 'sv-created', 'busybox', 'true']).status, 0);
    assert.is(storeProcesses(/box-supervisor/).length, 1);
    assert.is(box(['rm', 'sv-created']).status, 0);
    await gone();
  } finally {
    removeAll('sv-created');
  }
});

test.run();
