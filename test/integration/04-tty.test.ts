// `box run -it` driven through a real pty, as a person at a terminal would use it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInPty } from '../helpers/pty';
import { exitOf, sleep } from '../helpers/box';
import * as libc from '../../lib/libc';

// a pty's master reports the terminal settings of its slave
const stty = (master: number) => libc.termios(master).toString('hex');

test('-it: a pty from the container\'s devpts, its size, job control, Ctrl-C, exit status, terminal restored', async () => {
  const t = runInPty(['run', '-it', '--rm', 'busybox', 'sh'], 30, 100);
  const cooked = stty(t.master);
  await t.waitFor(/\/ # (\x1b\[6n)?$/);
  t.write('tty; stty size\r');
  await t.waitFor(/\/dev\/pts\/0\r\n30 100\r\n/);
  assert.not.match(t.output(), /\r\r\n/, 'output is processed twice (ONLCR left on in raw mode)');
  // Ctrl-C kills the foreground sleep, not the shell
  t.write('sleep 30\r');
  await sleep(300);
  const before = Date.now();
  t.write('\x03');
  t.write('echo after-ctrl-c\r');
  await t.waitFor(/after-ctrl-c\r\n/, 5000);
  assert.ok(Date.now() - before < 3000, 'Ctrl-C did not interrupt sleep');
  // Ctrl-Z and jobs: job control works (no "can't access tty")
  t.write('sleep 40\r');
  await sleep(300);
  t.write('\x1a');
  await t.waitFor(/Stopped/, 5000);
  t.write('jobs\r');
  await t.waitFor(/\[1\]\+\s+Stopped\s+sleep 40/, 5000);
  t.write('kill -9 %1\r');
  // the window follows the user's terminal: resize it, send box SIGWINCH
  libc.setWinsize(t.master, 20, 70);
  t.proc.kill('SIGWINCH');
  await sleep(300);
  t.write('stty size\r');
  await t.waitFor(/20 70\r\n/, 5000);
  t.write('exit 5\r');
  const { code } = await exitOf(t.proc);
  assert.is(code, 5);
  assert.not.match(t.output(), /can't access tty/);
  assert.is(stty(t.master), cooked, 'box left the terminal in raw mode');
  t.close();
});

test('-t without -i: output through the pty, stdin not attached', async () => {
  const t = runInPty(['run', '-t', '--rm', 'busybox', 'sh', '-c', 'tty; test -t 0 && echo stdin-is-tty; exit 3']);
  const { code } = await exitOf(t.proc);
  await sleep(100);
  assert.is(code, 3);
  assert.match(t.output(), /\/dev\/pts\/0/);
  t.close();
});

test('without -t the container has no controlling terminal and its own session', async () => {
  const t = runInPty(['run', '--rm', 'busybox', 'sh', '-c', 'tty; echo sid=$(cut -d" " -f6 /proc/self/stat) pid=$$']);
  await exitOf(t.proc);
  await sleep(100);
  assert.match(t.output(), /not a tty/);
  assert.match(t.output(), /sid=1 pid=1/);
  t.close();
});

test.run();
