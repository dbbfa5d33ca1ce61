// box attach, as Docker's: a detached container's output from the moment of attach (several
// clients at once), stdin to a `run -d -i` container, a `-dit` container's terminal with its
// size and the detach keys, the exit status at the end, the stopped/paused refusals, and a
// stopped or killed attach client that holds up neither the container nor its log.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { box, boxAsync, exitOf, until, sleep, removeAll, STATE } from '../helpers/box';
import { runInPty } from '../helpers/pty';
import * as libc from '../../lib/libc';

interface Client { proc: ChildProcess; out: () => string; err: () => string }
function attach(args: string[], stdin: 'pipe' | 'ignore' = 'ignore'): Client {
  const proc = boxAsync(['attach', ...args], { stdio: [stdin, 'pipe', 'pipe'] });
  let out = '', err = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { err += d; });
  return { proc, out: () => out, err: () => err };
}

/** Write `text` to PID 1's stdout (or stderr) from inside, until every client has seen it: they are attached then. */
async function reached(name: string, clients: Client[], text: string, fd = 1) {
  await until(() => {
    box(['exec', name, 'sh', '-c', `echo ${text} >/proc/1/fd/${fd}`]);
    return clients.every((c) => (fd === 1 ? c.out() : c.err()).includes(text));
  }, 20000, `${text} seen by every attach client`);
}

const status = (name: string) => JSON.parse(box(['inspect', name]).stdout)[0]?.State;

test('output from the moment of attach, stdout and stderr, to two clients at once; both get the exit status', async () => {
  try {
    assert.is(box(['run', '-d', '--name', 'at-live', 'busybox', 'sh', '-c', 'echo early; trap "exit 3" TERM; while :; do sleep 0.1; done']).status, 0);
    await until(() => box(['logs', 'at-live']).stdout.includes('early'), 10000, 'early in the log');
    const a = attach(['at-live']), b = attach(['at-live']);
    await reached('at-live', [a, b], 'late-out');
    await reached('at-live', [a, b], 'late-err', 2);
    assert.not.ok(a.out().includes('early'), 'attach shows no history (that is box logs)');
    assert.not.ok(a.err().includes('late-out'));
    const ends = [exitOf(a.proc), exitOf(b.proc)];
    assert.is(box(['stop', 'at-live']).status, 0);
    const [ea, eb] = await Promise.all(ends);
    assert.is(ea.code, 3, a.err());
    assert.is(eb.code, 3, b.err());
  } finally {
    removeAll('at-live');
  }
});

test('run -d -i: attach forwards stdin (--no-stdin does not), the container keeps it open after the client goes', async () => {
  try {
    assert.is(box(['run', '-d', '-i', '--name', 'at-cat', 'busybox', 'cat']).status, 0);
    const quiet = attach(['--no-stdin', 'at-cat'], 'pipe');
    const a = attach(['at-cat'], 'pipe');
    await reached('at-cat', [a, quiet], 'ready');
    quiet.proc.stdin!.write('from-no-stdin\n');
    await sleep(300);
    a.proc.stdin!.write('hello from attach\n');
    await until(() => a.out().includes('hello from attach') && quiet.out().includes('hello from attach'), 10000, 'the line read back through cat');
    assert.not.ok(a.out().includes('from-no-stdin'), '--no-stdin forwarded stdin');
    // the client goes (its stdin ends with it): cat still runs, and a second attach still reaches it
    a.proc.kill('SIGKILL');
    await exitOf(a.proc);
    const again = attach(['at-cat'], 'pipe');
    await reached('at-cat', [again], 'ready2');
    again.proc.stdin!.write('second\n');
    await until(() => again.out().includes('second'), 10000, 'the second attach read back');
    assert.is(status('at-cat').Status, 'running');
    const ends = [exitOf(again.proc), exitOf(quiet.proc)];
    box(['kill', 'at-cat']);
    const [e1, e2] = await Promise.all(ends);
    assert.is(e1.code, 137);
    assert.is(e2.code, 137);
  } finally {
    removeAll('at-cat');
  }
});

test('-dit: the terminal in raw mode, its size, ctrl-p ctrl-q detaches and leaves it running, then its exit status', async () => {
  try {
    assert.is(box(['run', '-dit', '--name', 'at-tty', 'busybox', 'sh']).status, 0);
    // stdin not a terminal: Docker's refusal
    const notty = box(['attach', 'at-tty'], { input: '' });
    assert.is(notty.status, 1);
    assert.match(notty.stderr, /the input device is not a TTY/);
    const t = runInPty(['attach', 'at-tty'], 33, 101);
    try {
      await until(() => { t.write('stty size; echo v-$((6*7))\r'); return /33 101[\s\S]*v-42/.test(t.output()); }, 20000, 'the shell to answer through the pty');
      // the user's window changes: the container's terminal follows
      libc.setWinsize(t.master, 41, 120);
      t.proc.kill('SIGWINCH');
      await until(() => { t.write('stty size\r'); return /41 120/.test(t.output()); }, 10000, 'the new size inside');
      t.write('\x10\x11');
      const e = await exitOf(t.proc);
      assert.is(e.code, 0, t.output());
      assert.match(t.output(), /read escape sequence/);
    } finally { t.close(); }
    assert.is(status('at-tty').Status, 'running', 'the detach keys stopped the container');
    // other detach keys; the shell's exit ends the attach with its status
    const u = runInPty(['attach', '--detach-keys', 'ctrl-a,x', 'at-tty']);
    try {
      const exited = exitOf(u.proc);
      let e: any;
      for (let i = 0; !e && i < 20; i++) { u.write('exit 5\r'); e = await Promise.race([exited, sleep(1000).then(() => undefined)]); }
      assert.is(e?.code, 5, u.output());
    } finally { u.close(); }
    await until(() => status('at-tty').Status === 'exited', 10000, 'the container to exit');
    assert.is(box(['attach', '--detach-keys', 'ctrl-1', 'at-tty']).status, 1);
  } finally {
    removeAll('at-tty');
  }
});

test('a paused or stopped container: Docker\'s refusals, exit 1', async () => {
  try {
    assert.is(box(['run', '-d', '--name', 'at-pause', 'busybox', 'sleep', '60']).status, 0);
    assert.is(box(['pause', 'at-pause']).status, 0);
    let r = box(['attach', 'at-pause']);
    assert.is(r.status, 1);
    assert.match(r.stderr, /You cannot attach to a paused container, unpause it first/);
    assert.is(box(['unpause', 'at-pause']).status, 0);
    assert.is(box(['kill', 'at-pause']).status, 0);
    await until(() => status('at-pause').Status === 'exited', 10000, 'the container to exit');
    r = box(['attach', 'at-pause']);
    assert.is(r.status, 1);
    assert.match(r.stderr, /You cannot attach to a stopped container, start it first/);
  } finally {
    removeAll('at-pause');
  }
});

test('a stopped (SIGSTOP) and a killed attach client hold up neither the container nor its log', async () => {
  try {
    const script = 'while [ ! -e /go ]; do sleep 0.1; done; i=0; while [ $i -lt 40000 ]; do echo line-$i-padpadpadpadpadpadpadpadpadpadpadpadpadpad; i=$((i+1)); done; echo all-done; sleep 60';
    assert.is(box(['run', '-d', '--name', 'at-slow', 'busybox', 'sh', '-c', script]).status, 0);
    const stopped = attach(['at-slow']), killed = attach(['at-slow']);
    await reached('at-slow', [stopped, killed], 'ready');
    stopped.proc.kill('SIGSTOP');
    killed.proc.kill('SIGKILL');
    await exitOf(killed.proc);
    const t0 = Date.now();
    assert.is(box(['exec', 'at-slow', 'touch', '/go']).status, 0);
    // 2.3 MB of output, more than the socket and the 1 MiB queue hold for the stopped client
    await until(() => box(['logs', '--tail', '1', 'at-slow']).stdout.includes('all-done'), 60000, 'the whole output in the log');
    const ms = Date.now() - t0;
    const log = box(['logs', 'at-slow'], { maxBuffer: 64 << 20 }).stdout.split('\n').filter((l) => l.startsWith('line-'));
    assert.is(log.length, 40000, 'the log lost lines');
    stopped.proc.kill('SIGCONT');
    const end = exitOf(stopped.proc);
    box(['kill', 'at-slow']);
    assert.is((await end).code, 137);
    const got = stopped.out().split('\n').filter((l) => l.startsWith('line-')).length;
    process.stdout.write(`    (40000 lines logged in ${ms} ms with a stopped client; it got ${got} of them after SIGCONT)\n`);
  } finally {
    removeAll('at-slow');
  }
});

test('--sig-proxy: a signal to the client goes to PID 1 (default), or only ends the client (=false)', async () => {
  try {
    assert.is(box(['run', '-d', '--name', 'at-sig', 'busybox', 'sh', '-c', 'trap "echo got-usr1" USR1; trap "exit 7" INT; while :; do sleep 0.1; done']).status, 0);
    const off = attach(['--sig-proxy=false', 'at-sig']), on = attach(['at-sig']);
    await reached('at-sig', [off, on], 'ready');
    off.proc.kill('SIGINT');
    assert.is((await exitOf(off.proc)).signal, 'SIGINT');
    await sleep(300);
    assert.is(status('at-sig').Status, 'running', '--sig-proxy=false passed SIGINT on');
    on.proc.kill('SIGUSR1');
    await until(() => on.out().includes('got-usr1'), 10000, 'the trap of the forwarded SIGUSR1');
    on.proc.kill('SIGINT');
    assert.is((await exitOf(on.proc)).code, 7, on.err());
  } finally {
    removeAll('at-sig');
  }
});

test('a container adopted by a new supervisor (the old one SIGKILLed): its output and its exit status', async () => {
  try {
    const id = box(['run', '-d', '--name', 'at-adopt', 'busybox', 'sh', '-c', 'trap "exit 6" TERM; while :; do sleep 0.1; done']).stdout.trim();
    const owner = () => JSON.parse(fs.readFileSync(path.join(STATE, 'containers', id, 'state.json'), 'utf8')).owner.pid;
    const old = owner();
    process.kill(old, 'SIGKILL');
    await until(() => { box(['ps']); return owner() !== old && fs.existsSync(`/proc/${owner()}`); }, 20000, 'a new supervisor to adopt it');
    const a = attach(['at-adopt']);
    await reached('at-adopt', [a], 'adopted');
    const end = exitOf(a.proc);
    assert.is(box(['stop', 'at-adopt']).status, 0);
    assert.is((await end).code, 6, a.err());
  } finally {
    removeAll('at-adopt');
  }
});

test('the supervisor refuses a request that does not name one of its containers', async () => {
  try {
    assert.is(box(['run', '-d', '--name', 'at-req', 'busybox', 'sleep', '60']).status, 0);
    const ask = (m: object) => new Promise<string>((resolve) => {
      const c = net.connect(path.join(STATE, 'run', 'supervisor.sock'));
      let got = '';
      c.on('connect', () => c.write(JSON.stringify(m) + '\n'));
      c.on('data', (d) => { got += d.toString('latin1'); });
      c.on('close', () => resolve(got));
      c.on('error', () => resolve(got));
    });
    assert.match(await ask({ attach: '../../etc' }), /bad request/);
    assert.match(await ask({ attach: 'f'.repeat(64) }), /is not running under this supervisor/);
  } finally {
    removeAll('at-req');
  }
});

test.run();
