// Escapes through PID 1 under --init (issue 10). When box's Node stage stayed PID 1, its
// V8/libuv threads kept the host's namespaces, root and capabilities, /proc/1/environ was
// box's environment and /proc/1/exe the host's node. Each test attacks from inside a
// default --init container and has a control: the same probe, run on the host against a
// host process in the bad state, reports it, so a pass is not a probe that cannot see.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { box, needs, TOP, CC } from '../helpers/box';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-escape-'));
fs.chmodSync(tmp, 0o755); // the probe also runs as a user
const PTRACE = ['--cap-add', 'SYS_PTRACE'];
const rand = () => crypto.randomBytes(6).toString('hex');

/** Run a probe script in a --init busybox container: `sh -c SCRIPT probe ...args` → stdout. */
function inside(script: string, args: string[], flags: string[] = [], env: Record<string, string> = {}): string {
  const r = box(['run', '--rm', '--init', ...flags, 'busybox', 'sh', '-c', script, 'probe', ...args], { env });
  assert.is(r.status, 0, r.stderr);
  return r.stdout;
}

/** The same probe script on the host, with the host's sh. */
function onHost(script: string, args: string[], opts: { env?: NodeJS.ProcessEnv; wrap?: string[] } = {}): string {
  const [cmd, ...pre] = [...(opts.wrap ?? []), 'sh'];
  const r = spawnSync(cmd, [...pre, '-c', script, 'probe', ...args], { encoding: 'utf8', env: opts.env ?? process.env });
  assert.is(r.status, 0, r.stderr);
  return r.stdout;
}

const cc = spawnSync(CC, ['-static', '-O', '-o', path.join(tmp, 'exe-probe'), path.join(TOP, 'test/fixtures/exe-probe.c')], { encoding: 'utf8' });
needs(test, cc.status === 0, `cannot build the static exe probe: ${cc.stderr || cc.error}`)('CVE-2019-5736: /proc/1/exe is a sealed memfd, not the host\'s node, and cannot be opened for writing (also with SYS_PTRACE, also as a user)', () => {
  const probe = path.join(tmp, 'exe-probe');
  const node = fs.statSync(process.execPath);
  const parse = (out: string) => {
    const m = out.trim().match(/^(\d+:\d+) seals=(\d+|none) write=(\w+)$/);
    assert.ok(m, out);
    return { id: m![1], seals: m![2], write: m![3] };
  };
  for (const flags of [[], PTRACE, ['-u', '1000:1000']]) {
    const r = box(['run', '--rm', '--init', '-v', `${tmp}:/probe:ro`, ...flags, 'busybox', '/probe/exe-probe', '/proc/1/exe']);
    assert.is(r.status, 0, r.stderr);
    const got = parse(r.stdout);
    assert.is.not(got.id, `${node.dev}:${node.ino}`, `${flags}: /proc/1/exe is the host's node`);
    assert.is(Number(got.seals) & 15, 15, `${flags}: seals ${got.seals}: SEAL|SHRINK|GROW|WRITE expected`);
    assert.is.not(got.write, 'ok', `${flags}: /proc/1/exe opened for writing`);
  }
  // Controls: against this test's own Node process the probe sees the host's node and no
  // seals; against a file nothing executes it sees that writing is possible.
  const self = parse(spawnSync(probe, [`/proc/${process.pid}/exe`], { encoding: 'utf8' }).stdout);
  assert.is(self.id, `${node.dev}:${node.ino}`);
  assert.is(self.seals, 'none');
  const plain = path.join(tmp, 'plain-file');
  fs.writeFileSync(plain, 'x');
  assert.is(parse(spawnSync(probe, [plain], { encoding: 'utf8' }).stdout).write, 'ok');
});

// Every task of $1 against the namespaces of $2: one line per difference (or unreadable
// link), then the number of tasks.
const NS_PROBE = `n=0
for t in /proc/$1/task/*; do
  n=$((n+1))
  for ns in mnt net uts ipc pid cgroup; do
    a=$(readlink "$t/ns/$ns"); b=$(readlink "/proc/$2/ns/$ns")
    [ -n "$a" ] && [ "$a" = "$b" ] || echo "differs: \${t##*/} $ns \${a:-unreadable} $b"
  done
done
echo "tasks=$n"`;

test('every thread of PID 1 is in the container\'s mnt, net, uts, ipc, pid and cgroup namespaces (also with SYS_PTRACE)', () => {
  for (const flags of [[], PTRACE]) {
    // PID 1 is single-threaded: nothing multi-threaded stays inside after execve.
    assert.is(inside(NS_PROBE, ['1', 'self'], flags).trim(), 'tasks=1', `${flags}`);
  }
  // Control: this test's Node process (many threads) against a shell in new namespaces.
  const out = onHost(NS_PROBE, [String(process.pid), 'self'], { wrap: ['unshare', '--mount', '--uts', '--ipc', '--net', '--cgroup'] });
  const tasks = Number(out.match(/tasks=(\d+)/)![1]);
  assert.ok(tasks > 1, out);
  for (const ns of ['mnt', 'net', 'uts', 'ipc', 'cgroup']) {
    assert.is(out.split('\n').filter((l) => l.startsWith('differs: ') && l.split(' ')[2] === ns).length, tasks, `${ns}: ${out}`);
  }
});

// Through every task's root of $1: $2 (made by the container) must be there, $3 (a host
// file) must not, and writing to $3 there must not reach the host.
const ROOT_PROBE = `n=0
for t in /proc/$1/task/*; do
  n=$((n+1))
  [ -e "$t/root$2" ] || echo "missing: \${t##*/} $2"
  [ -e "$t/root$3" ] && echo "host: \${t##*/} $3"
  echo pwned 2>/dev/null > "$t/root$3"
done
echo "tasks=$n"`;

test('every thread of PID 1 has the container\'s root: no host file through /proc/1/task/*/root (also with SYS_PTRACE)', () => {
  const hostFile = path.join(tmp, `host-only-${rand()}`);
  fs.writeFileSync(hostFile, 'host');
  const marker = `/escape-marker-${rand()}`;
  for (const flags of [[], PTRACE]) {
    assert.is(inside(`touch ${marker} && ${ROOT_PROBE}`, ['1', marker, hostFile], flags).trim(), 'tasks=1', `${flags}`);
    assert.is(fs.readFileSync(hostFile, 'utf8'), 'host');
  }
  // Control: through this test's Node process the probe finds the host file, not the
  // marker, and its write reaches the host (a file made for the control).
  const copy = `${hostFile}-control`;
  fs.writeFileSync(copy, 'host');
  const out = onHost(ROOT_PROBE, [String(process.pid), marker, copy]);
  const tasks = Number(out.match(/tasks=(\d+)/)![1]);
  assert.ok(tasks > 1, out);
  assert.is((out.match(/^missing: /gm) || []).length, tasks, out);
  assert.is((out.match(/^host: /gm) || []).length, tasks, out);
  assert.is(fs.readFileSync(copy, 'utf8'), 'pwned\n');
});

const ENV_PROBE = 'tr "\\0" "\\n" < /proc/$1/environ';

test('/proc/1/environ holds the container\'s environment, nothing of box\'s', () => {
  const secret = `BOX_ESCAPE_MARKER=${rand()}`;
  const [k, v] = secret.split('=');
  const env = inside(ENV_PROBE, ['1'], ['-e', 'VISIBLE=yes'], { [k]: v }).split('\n');
  assert.ok(env.includes('VISIBLE=yes'), env.join(' '));
  assert.ok(env.some((l) => l.startsWith('PATH=')), env.join(' '));
  assert.not.ok(env.some((l) => l.includes(v)), `box's environment leaked into PID 1: ${env.join(' ')}`);
  // Control: a host process started with the marker shows it in its environ.
  assert.ok(onHost(ENV_PROBE.replace('$1', () => '$$'), [], { env: { ...process.env, [k]: v } }).split('\n').includes(secret));
});

const FD_PROBE = 'ls /proc/$1/fd | sort -n | tr "\\n" " "';

test('PID 1 holds no file descriptor but stdin, stdout and stderr', () => {
  assert.is(inside(FD_PROBE, ['1']).trim(), '0 1 2');
  assert.is(inside(FD_PROBE, ['1'], ['-i']).trim(), '0 1 2');
  // Control: this test's Node process holds more.
  assert.ok(onHost(FD_PROBE, [String(process.pid)]).trim().split(' ').length > 3);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
