// /sys/fs/cgroup inside a container, as Docker mounts it: the container's own cgroups only
// (v1: every hierarchy, named ones too; v2: the unified one), read-only unless --privileged,
// so that runtimes that size themselves from it (JVM, Go's automaxprocs, Node, .NET) read the
// container's limits there — the files they read, under -m 256m --cpus 1 --cpuset-cpus 0.
// Cold runs and runs on the supervisor's pooled stages (another path to the same plan).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { box, until, STATE, needs, removeAll, boxCgroups, storeProcesses, UNTIL_TERM } from '../helpers/box';
import { discover, hasCgroupNamespace } from '../../lib/cgroup/discover';

const layout = discover();
const v2 = layout.mode === 'v2';
const has = (c: string) => (v2 ? !!layout.v2?.controllers.includes(c) : layout.v1.some((h) => h.controllers.includes(c)));
const LIMITS = ['-m', '256m', '--cpus', '1', '--cpuset-cpus', '0'];

// What the runtimes read, by cgroup mode: [file under /sys/fs/cgroup, expected value, controller].
const FILES: [string, string, string][] = v2
  ? [['memory.max', '268435456', 'memory'], ['cpu.max', '100000 100000', 'cpu'], ['cpuset.cpus', '0', 'cpuset']]
  : [['memory/memory.limit_in_bytes', '268435456', 'memory'], ['cpu/cpu.cfs_quota_us', '100000', 'cpu'], ['cpu/cpu.cfs_period_us', '100000', 'cpu'], ['cpuset/cpuset.cpus', '0', 'cpuset']];
const LIMIT_FILE = v2 ? 'memory.max' : 'memory/memory.limit_in_bytes';
const PROCS_FILE = v2 ? 'cgroup.procs' : 'memory/cgroup.procs';

/**
 * A shell script that reports, one fact per line: the files above, /proc/self/cgroup, the
 * cgroup mounts (root, mount point, options), the cgroups below the container's own, what
 * its memory cgroup's cgroup.procs lists, and the outcome of writes a container must not be
 * able to make (its limit; its own pid into the level above, by `..`; a new cgroup; a remount).
 */
const PROBE = [
  'cg=/sys/fs/cgroup',
  `for f in ${FILES.map((f) => f[0]).join(' ')}; do [ -e $cg/$f ] && echo "FILE $f $(cat $cg/$f)"; done`,
  'echo "LS $(ls $cg | tr "\\n" " ")"',
  'while read l; do echo "SELF $l"; done < /proc/self/cgroup',
  'grep " /sys/fs/cgroup" /proc/self/mountinfo | while read a b c root mp opts rest; do echo "MOUNT $root $mp $opts"; done',
  `echo "BELOW $(find $cg -mindepth ${v2 ? 1 : 2} -type d | wc -l)"`,
  `echo "PROCS $(tr "\\n" " " < $cg/${PROCS_FILE})"`,
  'try() { if out=$(sh -c "$2" 2>&1); then echo "$1 ok"; else echo "$1 failed: $out"; fi; }',
  `try WRITE-LIMIT "echo 268435456 > $cg/${LIMIT_FILE}"`,
  `up=$cg/${v2 ? '' : 'memory/'}../cgroup.procs; try WRITE-UP "[ -e $up ] && echo $$ > $up"`, // no such file: the mount's root is the container's cgroup
  `try MKDIR "mkdir $cg/${v2 ? '' : 'memory/'}sub && rmdir $cg/${v2 ? '' : 'memory/'}sub"`,
  `try REMOUNT "mount -o remount,rw $cg/${v2 ? '' : 'memory'}"`,
].join('\n');

type Report = { files: Record<string, string>; ls: string[]; self: string[]; mounts: string[][]; below: number; procs: string[]; tries: Record<string, string> };

function parse(out: string): Report {
  const r: Report = { files: {}, ls: [], self: [], mounts: [], below: -1, procs: [], tries: {} };
  for (const line of out.split('\n')) {
    const [key, ...rest] = line.split(' ');
    if (key === 'FILE') r.files[rest[0]] = rest.slice(1).join(' ');
    else if (key === 'LS') r.ls = rest.filter(Boolean);
    else if (key === 'SELF') r.self.push(rest.join(' '));
    else if (key === 'MOUNT') r.mounts.push(rest);
    else if (key === 'BELOW') r.below = Number(rest[0]);
    else if (key === 'PROCS') r.procs = rest.filter(Boolean);
    else if (/^(WRITE|MKDIR|REMOUNT)/.test(key)) r.tries[key] = rest.join(' ');
  }
  return r;
}

function probe(flags: string[], name?: string): Report {
  const r = box(['run', ...(name ? ['--name', name] : ['--rm']), ...flags, 'busybox', 'sh', '-c', PROBE]);
  assert.is(r.status, 0, r.stderr);
  return parse(r.stdout);
}

/** What every default container must show: its limits, "/" as its cgroup, nothing of anyone else's, nothing writable. */
function assertContained(r: Report, what: string) {
  for (const [file, value, controller] of FILES) {
    if (has(controller)) assert.is(r.files[file], value, `${what}: ${file} (${JSON.stringify(r)})`);
  }
  if (hasCgroupNamespace()) for (const l of r.self) assert.ok(l.endsWith(':/'), `${what}: /proc/self/cgroup ${l}`);
  const expected = v2 ? [] : layout.v1.map((h) => path.basename(h.mountpoint));
  for (const name of expected) assert.ok(r.ls.includes(name), `${what}: /sys/fs/cgroup has ${r.ls}, not ${name}`);
  if (!v2) assert.not.ok(r.ls.includes('unified'), `${what}: the hybrid host's cgroup2 is not mounted (Docker does not)`);
  assert.ok(r.mounts.length >= (v2 ? 1 : 1 + expected.length), `${what}: mounts ${JSON.stringify(r.mounts)}`);
  for (const [root, mp, opts] of r.mounts) {
    if (hasCgroupNamespace()) assert.is(root, '/', `${what}: ${mp} shows its root as ${root}`);
    assert.match(opts, /^ro,nosuid,nodev,noexec/, `${what}: ${mp} ${opts}`);
  }
  assert.is(r.below, 0, `${what}: cgroups below the container's own are visible`);
  assert.ok(r.procs.includes('1') && r.procs.length <= 3, `${what}: its cgroup.procs lists ${r.procs} (the container's own: sh as PID 1, tr)`);
  for (const k of ['WRITE-LIMIT', 'WRITE-UP', 'MKDIR', 'REMOUNT']) assert.match(r.tries[k], /^failed/, `${what}: ${k} ${r.tries[k]}`);
  assert.match(r.tries['WRITE-LIMIT'], /Read-only file system/, what);
  assert.match(r.tries['MKDIR'], /Read-only file system/, what);
}

/** --privileged: writable, as Docker mounts it; still only its own cgroup, whose children box removes with it. */
function assertPrivileged(r: Report, what: string) {
  for (const [root, mp, opts] of r.mounts) {
    if (hasCgroupNamespace()) assert.is(root, '/', `${what}: ${mp}`);
    assert.match(opts, /^rw,nosuid,nodev,noexec/, `${what}: ${mp} ${opts}`);
  }
  // v2 with nsdelegate: a cgroup namespace's root keeps its limits even when writable (EPERM), as under Docker
  if (v2) assert.match(r.tries['WRITE-LIMIT'], /^ok$|Operation not permitted/, what);
  else assert.is(r.tries['WRITE-LIMIT'], 'ok', what);
  assert.is(r.tries['MKDIR'], 'ok', what);
  assert.match(r.tries['WRITE-UP'], /^failed/, `${what}: nothing above its own cgroup: ${r.tries['WRITE-UP']}`);
}

const mine = (id: string) => boxCgroups().filter((d) => path.basename(d) === id);
const someCgroups = layout.mode !== 'none';

needs(test, someCgroups, 'no cgroup hierarchy on this host')('cold run: the container\'s limits where the runtimes read them, "/" as its cgroup, only its own, read-only', () => {
  assertContained(probe(LIMITS), 'cold');
});

needs(test, someCgroups, 'no cgroup hierarchy on this host')('--privileged: writable; a cgroup the container makes below its own goes with it', async () => {
  const name = 'cg-priv';
  try {
    assertPrivileged(probe(['--rm', '--privileged']), 'cold --privileged');
    const sub = v2 ? '/sys/fs/cgroup/sub' : '/sys/fs/cgroup/memory/sub';
    const d = box(['run', '-d', '--name', name, '--privileged', 'busybox', 'sh', '-c', `mkdir ${sub} && echo $$ > ${sub}/cgroup.procs && ${UNTIL_TERM}`]);
    assert.is(d.status, 0, d.stderr);
    const id = d.stdout.trim();
    const hostSub = () => mine(id).map((dir) => path.join(dir, 'sub')).find((p) => fs.existsSync(p));
    await until(hostSub, 20000, 'the sub-cgroup on the host');
    assert.match(box(['exec', name, 'cat', '/proc/1/cgroup']).stdout, /:\/sub$/m, 'PID 1 moved itself into it');
    assert.is(box(['rm', '-f', name]).status, 0);
    assert.equal(mine(id), [], 'removed with its sub-cgroup');
  } finally {
    removeAll(name);
  }
});

const record = (id: string) => JSON.parse(fs.readFileSync(path.join(STATE, 'containers', id, 'state.json'), 'utf8'));
const ppid = (pid: number) => { try { const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]); } catch { return -1; } };

needs(test, someCgroups, 'no cgroup hierarchy on this host')('with a supervisor alive: pooled runs see the same, --privileged ones writable; box exec sees its container\'s', async () => {
  try {
    const keep = box(['run', '-d', '--name', 'cg-keep', ...LIMITS, 'busybox', 'sh', '-c', UNTIL_TERM]);
    assert.is(keep.status, 0, keep.stderr);
    const sup = record(keep.stdout.trim()).owner.pid;
    await until(() => storeProcesses(/\b__init\b/).some((p) => ppid(p) === sup), 30000, 'a pooled stage');
    const pooled = probe(LIMITS, 'cg-pooled');
    const id = box(['inspect', '-f', '{{.Id}}', 'cg-pooled']).stdout.trim();
    assert.is(record(id).owner.pid, sup, 'the supervisor ran it (pooled)');
    assertContained(pooled, 'pooled');
    await until(() => storeProcesses(/\b__init\b/).some((p) => ppid(p) === sup), 30000, 'a pooled stage');
    assertPrivileged(probe(['--privileged'], 'cg-pooled-priv'), 'pooled --privileged');
    const exec = box(['exec', 'cg-keep', 'cat', `/sys/fs/cgroup/${LIMIT_FILE}`]);
    assert.is(exec.status, 0, exec.stderr);
    if (has('memory')) assert.is(exec.stdout.trim(), '268435456');
  } finally {
    removeAll('cg-keep', 'cg-pooled', 'cg-pooled-priv');
  }
});

test.run();
