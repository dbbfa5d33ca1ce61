// `box logs` of a container that ran attached, as Docker: its output is in its json-file log
// whether it ran detached or not — on the cold path (no supervisor: the client relays and
// logs) and on the pooled one (a supervisor runs it: it copies the container's pipes to the
// client's fds and into the log). Not for --rm runs (their log would go with them), nor with
// --log-driver none.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { box, boxAsync, until, sleep, exitOf, removeAll, storeProcesses, SUPERVISOR_PROCS, descendants, cmdline, STATE, UNTIL_TERM } from '../helpers/box';

const dirOf = (name: string) => path.join(STATE, 'containers', JSON.parse(box(['inspect', name]).stdout)[0].Id);
const jsonLogs = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('-json.log'));
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

for (const mode of ['cold', 'pooled'] as const) {
  const n = (s: string) => `alogs-${mode}-${s}`;

  test(`${mode}: the store is set up (${mode === 'cold' ? 'no supervisor' : 'a detached container keeps the supervisor up'})`, async () => {
    if (mode === 'cold') {
      await until(() => storeProcesses(SUPERVISOR_PROCS).length === 0, 30000, 'no supervisor of this store');
    } else {
      const r = box(['run', '-d', '--name', 'alogs-keep', 'busybox', 'sh', '-c', UNTIL_TERM]);
      assert.is(r.status, 0, r.stderr);
      await until(() => storeProcesses(SUPERVISOR_PROCS).length > 0, 10000, 'the supervisor');
    }
  });

  test(`${mode}: stdout and stderr in the log on their streams; --tail, -t, --since; the exit status unchanged`, () => {
    try {
      const r = box(['run', '--name', n('a'), 'busybox', 'sh', '-c', 'echo out; sleep 0.1; echo err >&2; exit 3']);
      assert.is(r.status, 3, r.stderr);
      assert.is(r.stdout, 'out\n');
      assert.is(r.stderr, 'err\n');
      const l = box(['logs', n('a')]);
      assert.is(l.status, 0, l.stderr);
      assert.is(l.stdout, 'out\n');
      assert.is(l.stderr, 'err\n');
      const t = box(['logs', '--tail', '1', n('a')]);
      assert.is(t.stdout, '');
      assert.is(t.stderr, 'err\n');
      const s = box(['logs', '-t', n('a')]);
      assert.match(s.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z out\n$/);
      assert.match(s.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z err\n$/);
      assert.is(box(['logs', '--since', '1h', n('a')]).stdout, 'out\n');
      const later = box(['logs', '--since', String(Math.floor(Date.now() / 1000) + 60), n('a')]);
      assert.is(later.stdout + later.stderr, '');
    } finally {
      removeAll(n('a'));
    }
  });

  test(`${mode}: -t: the terminal's output is logged as stdout`, () => {
    try {
      const r = box(['run', '-t', '--name', n('t'), 'busybox', 'sh', '-c', 'echo hi; tty']);
      assert.is(r.status, 0, r.stderr);
      assert.is(r.stdout, 'hi\r\n/dev/pts/0\r\n');
      const l = box(['logs', n('t')]);
      assert.is(l.stdout, 'hi\r\n/dev/pts/0\r\n');
      assert.is(l.stderr, '');
    } finally {
      removeAll(n('t'));
    }
  });

  test(`${mode}: 5 MB of output arrives whole and in order, at the client and in the log`, () => {
    try {
      const big = { maxBuffer: 64 * 1024 * 1024 };
      const r = box(['run', '--name', n('big'), 'busybox', 'sh', '-c', 'head -c 3750000 /dev/urandom | base64; echo end >&2'], big);
      assert.is(r.status, 0, r.stderr);
      assert.ok(r.stdout.length > 5_000_000, `${r.stdout.length} bytes`);
      assert.ok(r.stdout.endsWith('\n'));
      assert.is(r.stderr, 'end\n');
      const l = box(['logs', n('big')], big);
      assert.is(l.stdout.length, r.stdout.length);
      assert.is(sha(l.stdout), sha(r.stdout));
      assert.is(l.stderr, 'end\n');
    } finally {
      removeAll(n('big'));
    }
  });

  test(`${mode}: --log-opt max-size/max-file rotate the log of an attached run`, () => {
    try {
      const r = box(['run', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', '--name', n('rot'), 'busybox', 'sh', '-c', 'for i in $(seq 1 100); do echo line$i; done']);
      assert.is(r.status, 0, r.stderr);
      assert.is(r.stdout.split('\n').length, 101);
      const files = jsonLogs(dirOf(n('rot'))).concat(fs.readdirSync(dirOf(n('rot'))).filter((f) => /-json\.log\.\d+$/.test(f)));
      assert.is(files.length, 2, String(files));
      const l = box(['logs', n('rot')]).stdout;
      assert.ok(l.length < r.stdout.length && l.split('\n').length > 10, `${l.length} bytes kept`); // two files of ~14 records
      assert.ok(r.stdout.endsWith(l) && l.startsWith('line'), 'the newest lines, whole');
    } finally {
      removeAll(n('rot'));
    }
  });

  test(`${mode}: --rm runs leave no log (none is written while they run); --log-driver none records nothing`, async () => {
    try {
      const p = boxAsync(['run', '--rm', '--name', n('rm'), 'busybox', 'sh', '-c', 'echo x; sleep 1']);
      await until(() => box(['inspect', n('rm')]).status === 0 && JSON.parse(box(['inspect', n('rm')]).stdout)[0].State.Status === 'running', 10000, 'the --rm container running');
      assert.equal(jsonLogs(dirOf(n('rm'))), []);
      assert.is((await exitOf(p)).code, 0);
      assert.is.not(box(['inspect', n('rm')]).status, 0, 'removed');
      const r = box(['run', '--log-driver', 'none', '--name', n('none'), 'busybox', 'sh', '-c', 'echo quiet']);
      assert.is(r.status, 0, r.stderr);
      assert.is(r.stdout, 'quiet\n');
      assert.equal(jsonLogs(dirOf(n('none'))), []);
      const l = box(['logs', n('none')]);
      assert.is(l.status, 1);
      assert.match(l.stderr, /configured logging driver does not support reading/);
    } finally {
      removeAll(n('rm'), n('none'));
    }
  });

  if (mode === 'pooled') {
    for (const t of [[], ['-t']]) test(`pooled: the supervisor, not the client, runs a logged container ${t.join(' ')}`, async () => {
      try {
        const p = boxAsync(['run', ...t, '--name', n('who'), 'busybox', 'sh', '-c', 'echo started; sleep 1; echo done']);
        let out = '';
        p.stdout!.on('data', (d) => { out += d; });
        await until(() => out.includes('started'), 10000, 'the container started');
        const sup = storeProcesses(/box-supervisor|__supervisor/);
        assert.ok(sup.length > 0);
        assert.ok(!descendants(p.pid!).some((c) => /sleep 1/.test(cmdline(c))), 'nothing runs under the client');
        assert.ok(sup.some((s) => descendants(s).some((c) => /sleep 1/.test(cmdline(c)))), 'the container runs under the supervisor');
        assert.is((await exitOf(p)).code, 0);
        await sleep(50);
        const want = t.length ? 'started\r\ndone\r\n' : 'started\ndone\n';
        assert.is(out, want);
        assert.is(box(['logs', n('who')]).stdout, want);
      } finally {
        removeAll(n('who'));
      }
    });
  }
}

test('the detached container that kept the supervisor up is removed', () => {
  removeAll('alogs-keep');
});

test.run();
