// /proc/PID/stat parsing and signals that reach only the recorded process (pid + start
// time), through a pidfd and through the check-then-kill fallback. No root: our own children.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, ChildProcess } from 'node:child_process';
import { parseStat, readStat, processStart, signalProcess, fromWaitStatus } from '../../lib/util/proc';

// a real line of a process named "a) b (c" (pid 4242, state S, ppid 1, utime 7, stime 3, starttime 123456)
const LINE = '4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 123456 2490368 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n';

test('parseStat: the comm ends at the last ")", even when it holds ") (" itself', () => {
  assert.equal(parseStat(LINE), { pid: 4242, comm: 'a) b (c', state: 'S', ppid: 1, utime: 7, stime: 3, starttime: '123456' });
  assert.is(parseStat('12 (x) R 1 2'), undefined); // cut short
  assert.is(parseStat(''), undefined);
});

test('parseStat: field 52, a zombie\'s wait status; as Docker\'s exit code', () => {
  // the same process as a zombie that exited with 7: 52 fields, the last its wait status (7 << 8)
  const zombie = LINE.replace(') S ', ') Z ').trimEnd() + ' 0 0 0 0 0 0 0 1792\n';
  assert.is(parseStat(zombie)!.exitCode, 1792);
  assert.is(fromWaitStatus(1792), 7);
  assert.is(fromWaitStatus(9), 137);     // SIGKILL
  assert.is(fromWaitStatus(15 | 0x80), 143); // SIGTERM, core dumped
  assert.is(fromWaitStatus(0), 0);
});

const children: ChildProcess[] = [];
function sleeper(file = 'sleep'): Promise<ChildProcess> {
  const c = spawn(file, ['30'], { stdio: 'ignore' });
  children.push(c);
  return new Promise((ok, ko) => { c.once('spawn', () => ok(c)); c.once('error', ko); });
}
const exited = (c: ChildProcess) => new Promise<NodeJS.Signals | null>((r) => (c.exitCode !== null || c.signalCode ? r(c.signalCode) : c.once('exit', (_, s) => r(s))));
test.after(() => { for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ } });

test('readStat of a live process whose name has spaces and parentheses', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'box-proc-'));
  try {
    const odd = path.join(dir, 'a) b (c');
    fs.copyFileSync(fs.realpathSync('/bin/sleep'), odd);
    fs.chmodSync(odd, 0o755);
    const c = await sleeper(odd);
    const st = readStat(c.pid!)!;
    assert.is(st.comm, 'a) b (c');
    assert.is(st.ppid, process.pid);
    assert.is(st.starttime, processStart(c.pid!));
    assert.ok(Number(st.starttime) >= Number(processStart(process.pid)));
    c.kill('SIGKILL');
    await exited(c);
    assert.is(processStart(c.pid!), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const old of [false, true]) {
  test(`signalProcess (${old ? 'BOX_OLD_KERNEL=1: check, then kill' : 'pidfd'}): only the process that started at the recorded time`, async () => {
    const saved = process.env.BOX_OLD_KERNEL;
    if (old) process.env.BOX_OLD_KERNEL = '1'; else delete process.env.BOX_OLD_KERNEL;
    try {
      const c = await sleeper();
      const start = processStart(c.pid!)!;
      assert.is(signalProcess(c.pid!, String(Number(start) - 1), 'SIGTERM'), false); // another process's start: a reused pid
      assert.is(signalProcess(c.pid!, undefined, 'SIGTERM'), false);                 // nothing recorded: nothing to check against
      assert.is(processStart(c.pid!), start, 'still alive');
      assert.is(signalProcess(c.pid!, start, 0), true);
      assert.is(signalProcess(c.pid!, start, 'SIGTERM'), true);
      assert.is(await exited(c), 'SIGTERM');
      assert.is(signalProcess(c.pid!, start, 'SIGTERM'), false); // gone
      assert.is(signalProcess(0, start, 'SIGTERM'), false);
    } finally {
      if (saved === undefined) delete process.env.BOX_OLD_KERNEL; else process.env.BOX_OLD_KERNEL = saved;
    }
  });
}

test.run();
