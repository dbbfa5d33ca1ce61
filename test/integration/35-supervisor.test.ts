// The shared supervisor (lib/supervisor/): one Node process per store owns every detached
// container, under an anchor that keeps exit statuses when it dies; it exits when it
// supervises nothing; its containers survive its SIGKILL and the next box adopts them,
// with their output and exit codes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { box, boxAsync, until, exitOf, STATE, CG_PARENT, removeAll, storeProcesses, SUPERVISOR_PROCS, UNTIL_TERM, boxCgroups, stateEntries } from '../helpers/box';
import { runInPty, PROMPT } from '../helpers/pty';

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
    assert.equal(JSON.parse(box(['info', '--format', 'json']).stdout).supervisor, { pid: sup });
    const anchor = ppid(sup);
    assert.equal(storeProcesses(/box-anchor/), [anchor]);
    assert.match(fs.readFileSync(`/proc/${anchor}/cmdline`, 'utf8'), /^box-anchor\0\d+\0$/); // `sleep`, not a Node process
    for (const id of ids) assert.is(ppid(record(id).pid), sup, 'the supervisor is each container\'s parent');
    assert.is(box(['stop', ...names]).status, 0);
    await gone();
    assert.is(JSON.parse(box(['info', '--format', 'json']).stdout).supervisor, null);
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
    // the kernel hands a dead process's children over once its last thread is gone (the zombie leader comes first)
    await until(() => ppid(record(keep).pid) === anchor && ppid(record(goneId).pid) === anchor, 30000, 'the anchor to take them');
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

/** The supervisor's idle pooled stages: its children still running box's `__init`. */
const idleStages = (sup: number) => storeProcesses(/\b__init\b/).filter((p) => ppid(p) === sup);

test('box run on the supervisor\'s warm pool: isolation, exit status, stdin, -t; a killed client takes its container along; a killed idle stage is replaced', async () => {
  try {
    const keep = detached(['--name', 'sv-pool-keep', 'busybox', 'sh', '-c', UNTIL_TERM]);
    const sup = record(keep).owner.pid;
    const [idle] = await until(() => (idleStages(sup).length ? idleStages(sup) : undefined), 30000, 'a pooled stage');
    // run by the supervisor on that stage: its record's owner, the stage's pid
    const r = box(['run', '--name', 'sv-pooled', 'busybox', 'sh', '-c', 'ps -o pid,args; exit 5']);
    assert.is(r.status, 5, r.stderr);
    assert.match(r.stdout, /^\s*1 .*sh -c ps -o pid,args; exit 5$/m, 'PID 1 is the command');
    assert.is(r.stdout.trim().split('\n').length, 3, `only the container's own processes: ${r.stdout}`);
    const pooled = JSON.parse(box(['inspect', 'sv-pooled']).stdout)[0];
    assert.is(pooled.State.ExitCode, 5);
    assert.is(record(pooled.Id).owner.pid, sup, 'the supervisor ran it');
    assert.ok(!running(idle) || !idleStages(sup).includes(idle), 'on the stage that was idle');
    assert.is(box(['rm', 'sv-pooled']).status, 0);
    // stdin, as the cold path: the client's own fd, handed over
    const cat = box(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'piped through\n' });
    assert.is(cat.stdout, 'piped through\n', cat.stderr);
    // -t: the pty master comes back to the client, which relays the terminal
    const t = runInPty(['run', '-it', '--rm', 'busybox', 'sh']);
    const exited = exitOf(t.proc); // listened for now: the pooled run may be over before the output is seen
    await t.waitFor(PROMPT);
    t.write('tty; exit 4\r');
    await t.waitFor(/\/dev\/pts\/0\r\n/);
    assert.is((await exited).code, 4);
    t.close();
    // a client SIGKILLed while its container runs: the supervisor kills and tears it down
    const victim = boxAsync(['run', '--name', 'sv-victim', 'busybox', 'sleep', '300']);
    const vid = await until(() => { const r = box(['inspect', 'sv-victim']); const c = r.status === 0 && JSON.parse(r.stdout)[0]; return c && c.State.Running && c.Id; }, 30000, 'sv-victim to run');
    const vpid = record(vid).pid;
    victim.kill('SIGKILL');
    await until(() => !running(vpid) && record(vid).status === 'exited', 30000, 'sv-victim to be killed and torn down');
    assert.is(box(['rm', 'sv-victim']).status, 0);
    // an idle pooled stage SIGKILLed: replaced, and runs go on
    const [next] = await until(() => (idleStages(sup).length ? idleStages(sup) : undefined), 30000, 'a pooled stage');
    process.kill(next, 'SIGKILL');
    await until(() => idleStages(sup).some((p) => p !== next), 30000, 'a replacement stage');
    assert.is(box(['run', '--rm', 'busybox', 'true']).status, 0);
    assert.is(box(['stop', 'sv-pool-keep']).status, 0);
    await gone();
  } finally {
    removeAll('sv-pool-keep', 'sv-pooled', 'sv-victim');
  }
});

test('box run through the pool is created by the supervisor from the client\'s request: its errors, names, environment and cwd are the client\'s; a SIGKILLed client\'s --rm container leaves nothing', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-sv-req-'));
  try {
    const keep = detached(['--name', 'sv-req-keep', 'busybox', 'sh', '-c', UNTIL_TERM]);
    const sup = record(keep).owner.pid;
    await until(() => idleStages(sup).length > 0, 30000, 'a pooled stage');
    const before = stateEntries().sort();
    // made by the supervisor: the record's owner from the start
    const r = box(['run', '--name', 'sv-req-made', 'busybox', 'true']);
    assert.is(r.status, 0, r.stderr);
    const made = JSON.parse(box(['inspect', 'sv-req-made']).stdout)[0];
    assert.is(record(made.Id).owner.pid, sup);
    assert.is(box(['rm', 'sv-req-made']).status, 0);
    // errors found there come back as the cold path prints them, with its status; nothing is left
    const missing = box(['run', '--rm', 'sv-no-such-image', 'true']);
    assert.is(missing.status, 125);
    assert.is(missing.stderr, 'box run: unable to find image "sv-no-such-image": not in the store (box images), not the builtin "busybox", not a path (box pull sv-no-such-image fetches it)\n');
    const noCmd = box(['run', '--rm', '--entrypoint', '', 'busybox']);
    assert.is(noCmd.status, 125);
    assert.match(noCmd.stderr, /^box run: no command specified/);
    const conflict = box(['run', '--rm', '--name', 'sv-req-keep', 'busybox', 'true']);
    assert.is(conflict.status, 125);
    assert.match(conflict.stderr, /Conflict\. The container name "\/sv-req-keep" is already in use/);
    const badFlag = box(['run', '--rm', '--cpus', '1000', 'busybox', 'true']);
    assert.is(badFlag.status, 125);
    assert.match(badFlag.stderr, /^box run: Range of CPUs is from 0\.01/);
    const relVolume = box(['run', '--rm', '-v', './data:/data', 'busybox', 'true']); // data:/data is a named volume (Docker)
    assert.is(relVolume.status, 125);
    assert.match(relVolume.stderr, /invalid volume "\.\/data:\/data": .*If you intended to pass a host directory, use absolute path/);
    const exit127 = box(['run', '--rm', 'busybox', 'sv-no-such-command']);
    assert.is(exit127.status, 127, exit127.stderr);
    assert.equal(stateEntries().sort(), before, 'no record left by a failed run');
    // the client's environment (-e NAME, --env-file relative to its cwd), never the supervisor's
    fs.writeFileSync(path.join(tmp, 'vars'), 'SV_FROM_FILE=file\nSV_FROM_CLIENT\n');
    const env = box(['run', '--rm', '-e', 'SV_FROM_CLIENT', '-e', 'PATH', '-e', 'SV_UNSET', '--env-file', './vars', 'busybox', 'sh', '-c', 'echo "$SV_FROM_CLIENT|$SV_FROM_FILE|${SV_UNSET-unset}|$PATH"'],
      { cwd: tmp, env: { SV_FROM_CLIENT: 'client', PATH: `/sv/client/bin:${process.env.PATH}` } });
    assert.is(env.stdout, `client|file|unset|/sv/client/bin:${process.env.PATH}\n`, env.stderr);
    // paths relative to the client's cwd: an image directory, a seccomp profile; -v binds the absolute path it gave
    const images = path.dirname(path.dirname(record(keep).rootfs.lower[0])); // <store>/images/<busybox>/rootfs
    const profile = path.join(images, 'sv-profile.json');
    fs.writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
    fs.writeFileSync(path.join(tmp, 'file'), 'bound\n');
    try {
      const image = `./${path.basename(path.dirname(record(keep).rootfs.lower[0]))}/rootfs`;
      const rel = box(['run', '--rm', '--security-opt', 'seccomp=sv-profile.json', '-v', `${tmp}:/mnt:ro`, image, 'sh', '-c', 'cat /mnt/file; mkdir /x 2>/dev/null || echo refused'], { cwd: images });
      assert.is(rel.status, 0, rel.stderr);
      assert.is(rel.stdout, 'bound\nrefused\n');
      const missingRel = box(['run', '--rm', './sv-no-such-dir', 'true'], { cwd: images });
      assert.is(missingRel.status, 125);
      assert.is(missingRel.stderr, 'box run: image "./sv-no-such-dir": no such file or directory\n');
    } finally {
      fs.rmSync(profile, { force: true });
    }
    // a signal to the client goes to the container's PID 1
    const term = boxAsync(['run', '--rm', '--name', 'sv-req-term', 'busybox', 'sh', '-c', 'trap "exit 9" TERM; while :; do sleep 0.1; done']);
    const termExit = exitOf(term);
    const tpid = await until(() => { const v = box(['inspect', 'sv-req-term']); const c = v.status === 0 && JSON.parse(v.stdout)[0]; return c && c.State.Running && c.State.Pid; }, 30000, 'sv-req-term to run');
    assert.is(record(JSON.parse(box(['inspect', 'sv-req-term']).stdout)[0].Id).owner.pid, sup);
    const caught = () => BigInt(`0x${/^SigCgt:\s+(\w+)/m.exec(fs.readFileSync(`/proc/${tpid}/status`, 'utf8'))?.[1] ?? '0'}`);
    await until(() => (caught() & (BigInt(1) << BigInt(14))) !== BigInt(0), 30000, 'its TERM trap');
    term.kill('SIGTERM');
    assert.is((await termExit).code, 9);
    // a client SIGKILLed while its --rm container runs: killed, torn down and removed, nothing left
    const cgroups = boxCgroups().sort();
    const victim = boxAsync(['run', '--rm', '--name', 'sv-req-victim', 'busybox', 'sleep', '300']);
    const vid = await until(() => { const v = box(['inspect', 'sv-req-victim']); const c = v.status === 0 && JSON.parse(v.stdout)[0]; return c && c.State.Running && c.Id; }, 30000, 'sv-req-victim to run');
    const vpid = record(vid).pid;
    victim.kill('SIGKILL');
    await exitOf(victim);
    await until(() => !running(vpid) && !stateEntries().includes(vid), 30000, 'sv-req-victim to be killed and removed');
    assert.equal(stateEntries().sort(), before);
    assert.equal(boxCgroups().sort(), cgroups, 'its cgroups are gone');
    assert.is.not(box(['inspect', 'sv-req-victim']).status, 0);
    assert.is(box(['stop', 'sv-req-keep']).status, 0);
    await gone();
  } finally {
    removeAll('sv-req-keep', 'sv-req-made', 'sv-req-victim', 'sv-req-term');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('clients SIGKILLed at every moment of the hand-over leave nothing once the next box has collected', async () => {
  const names = Array.from({ length: 10 }, (_, i) => `sv-h${i}`);
  try {
    const keep = detached(['--name', 'sv-h-keep', 'busybox', 'sh', '-c', UNTIL_TERM]);
    const sup = record(keep).owner.pid;
    for (const [i, name] of names.entries()) {
      const p = boxAsync(['run', '--name', name, 'busybox', 'sleep', '300']);
      await new Promise((r) => setTimeout(r, 40 * i)); // from before the request to after the start
      p.kill('SIGKILL');
      await exitOf(p);
    }
    // a client killed between its container's directory and its first record leaves a
    // directory collection reclaims once it is a minute old: make them that old
    const dirs = path.join(STATE, 'containers');
    const unrecorded = fs.readdirSync(dirs).filter((d) => !fs.existsSync(path.join(dirs, d, 'state.json')));
    const old = new Date(Date.now() - 120000);
    for (const d of unrecorded) fs.utimesSync(path.join(dirs, d), old, old);
    box(['ps', '-a']); // collects what a client died with before handing it over
    for (const d of unrecorded) assert.ok(!fs.existsSync(path.join(dirs, d)), `${d}: an unrecorded directory left`);
    // the same, made by hand as a creator leaves it (index entry, directory, name), so it surely is tested
    const id = 'f'.repeat(64);
    fs.writeFileSync(path.join(STATE, 'live', id), '');
    fs.mkdirSync(path.join(dirs, id));
    fs.symlinkSync(id, path.join(STATE, 'names', 'sv-unrecorded'));
    assert.match(box(['ps', '-a']).stdout, /CONTAINER ID/);
    assert.ok(fs.existsSync(path.join(dirs, id)), 'a fresh one is being created: kept');
    fs.utimesSync(path.join(dirs, id), old, old);
    box(['ps', '-a']);
    assert.ok(!fs.existsSync(path.join(dirs, id)) && !fs.existsSync(path.join(STATE, 'live', id)), 'an old unrecorded directory and its index entry are collected');
    assert.ok(!fs.existsSync(path.join(STATE, 'names', 'sv-unrecorded')), 'and the name it reserved');
    for (const name of names) {
      const r = box(['inspect', name]);
      if (r.status !== 0) continue; // never made, or removed
      const c = JSON.parse(r.stdout)[0];
      await until(() => { const now = JSON.parse(box(['inspect', name]).stdout)[0]; return now && !now.State.Running && now.State.Status !== 'created'; }, 30000, `${name} to end (${JSON.stringify(c.State)})`);
      assert.ok(!c.State.Pid || !running(c.State.Pid) || (await until(() => !running(c.State.Pid), 30000, `${name}'s PID 1 to die`)));
    }
    // a container's processes carry its environment, not box's: found by this suite's cgroup parent
    const inSuite = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\u0000300\u0000' && fs.readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(CG_PARENT); } catch { return false; }
    });
    assert.equal(inSuite, [], 'no container of a dead client runs');
    assert.is(box(['stop', 'sv-h-keep']).status, 0);
    await gone();
    assert.ok(!running(sup));
  } finally {
    removeAll('sv-h-keep', ...names);
  }
});

test.run();
