// The Container API's verbs beyond run/exec/stop: pause and unpause (the cgroup freezer),
// update (limits written live), wait (the exit code). Each container waits for a signal,
// so no test races a short-lived process against the CLI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { box, until } from '../helpers/box';

const inspect = (ref: string) => JSON.parse(box(['inspect', ref]).stdout)[0];
// counts up every 0.1 s until SIGTERM, which it answers with exit 7
const COUNTER = ['busybox', 'sh', '-c', 'trap "exit 7" TERM; i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done'];
const detached = (name: string, flags: string[] = []) => {
  const r = box(['run', '-d', '--name', name, ...flags, ...COUNTER]);
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
};
const count = (name: string) => Number(box(['exec', name, 'cat', '/tmp/n']).stdout);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The container's file in the hierarchy that carries `controller` (v1), or its one v2 directory. */
const cgroupFile = (name: string, v1: string, v2: string) => {
  for (const dir of inspect(name).Cgroups as string[]) {
    for (const f of [v1, v2]) if (fs.existsSync(path.join(dir, f))) return fs.readFileSync(path.join(dir, f), 'utf8').trim();
  }
  return undefined;
};

test('pause freezes every process (the counter stops, exec is refused), unpause thaws them', async () => {
  const name = `pu-pause-${process.pid}`;
  detached(name);
  try {
    await sleep(300);
    assert.is(box(['pause', name]).status, 0);
    const st = inspect(name).State;
    assert.is(st.Status, 'paused');
    assert.is(st.Paused, true);
    assert.match(box(['ps']).stdout, new RegExp(`Up .*\\(Paused\\).*${name}`));
    const frozen = cgroupFile(name, 'freezer.state', 'cgroup.freeze');
    assert.ok(frozen === 'FROZEN' || frozen === '1', `freezer says ${frozen}`);
    const ex = box(['exec', name, 'true']);
    assert.is(ex.status, 1); // Docker's status
    assert.match(ex.stderr, /is paused, unpause the container before exec/);
    assert.is(box(['pause', name]).status, 1); // already paused: one error line, exit 1 as for every multi-container verb
    assert.is(box(['unpause', name]).status, 0);
    assert.is(inspect(name).State.Status, 'running');
    const a = count(name);
    await until(() => count(name) > a, 10000, 'the counter to count again after unpause'); // a loaded host may take a while
  } finally {
    box(['rm', '-f', name]);
  }
});

test('a paused container still stops with its stop signal (box thaws it to deliver)', () => {
  const name = `pu-stop-${process.pid}`;
  detached(name);
  try {
    assert.is(box(['pause', name]).status, 0);
    assert.is(box(['stop', '-t', '10', name]).status, 0);
    const st = inspect(name).State;
    assert.is(st.Status, 'exited');
    assert.is(st.ExitCode, 7); // the TERM trap ran: the signal reached it, not the SIGKILL after the timeout
  } finally {
    box(['rm', '-f', name]);
  }
});

test('update writes new limits to the running container\'s cgroups and the record; bad values are refused', () => {
  const name = `pu-update-${process.pid}`;
  detached(name, ['--memory', '64m', '--pids-limit', '50']);
  try {
    const r = box(['update', '--memory', '96m', '--pids-limit', '30', '--cpus', '0.5', name]);
    assert.is(r.status, 0, r.stderr);
    assert.is(cgroupFile(name, 'memory.limit_in_bytes', 'memory.max'), String(96 * 1024 * 1024));
    assert.is(cgroupFile(name, 'pids.max', 'pids.max'), '30');
    const cpu = cgroupFile(name, 'cpu.cfs_quota_us', 'cpu.max');
    assert.ok(cpu === '50000' || cpu === '50000 100000', `cpu quota ${cpu}`);
    const hc = inspect(name).HostConfig;
    assert.is(hc.Memory, 96 * 1024 * 1024);
    assert.is(hc.PidsLimit, 30);
    assert.is(hc.NanoCpus, 5e8);
    // the new limit holds inside: the 31st process cannot be made
    const fork = box(['exec', name, 'sh', '-c', 'for i in $(seq 40); do sleep 5 & done; echo made']);
    assert.match(fork.stdout + fork.stderr, /can't fork|Resource temporarily unavailable/);
    const bad = box(['update', '--memory', '1k', name]);
    assert.is(bad.status, 1); // Docker: the daemon refuses it, the CLI exits 1
    assert.match(bad.stderr, /Minimum memory limit allowed is 6MB/);
    assert.is(box(['update', name]).status, 1); // no flag
    assert.is(box(['update', '--pids-limit', '10', `no-such-${process.pid}`]).status, 1);
  } finally {
    box(['rm', '-f', name]);
  }
});

test('wait blocks until the container exits and prints its exit code', async () => {
  const name = `pu-wait-${process.pid}`;
  detached(name);
  try {
    const waiting = new Promise<{ stdout: string; status: number }>((resolve) => {
      const { spawn } = require('node:child_process');
      const { BOX, ENV } = require('../helpers/box');
      const p = spawn(process.execPath, ['--', BOX, 'wait', name], { env: ENV });
      let out = '';
      p.stdout.on('data', (d: Buffer) => { out += d; });
      p.on('close', (status: number) => resolve({ stdout: out, status }));
    });
    await sleep(500);
    assert.is(box(['kill', '-s', 'TERM', name]).status, 0);
    const w = await waiting;
    assert.is(w.status, 0);
    assert.is(w.stdout, '7\n');
  } finally {
    box(['rm', '-f', name]);
  }
});

test.run();
