// box as a Node library (lib/library.ts): 100 containers from this one process, 4 at a time,
// through a stage pool; each checks that it is isolated (its own hostname, only its own
// processes, a root no other container wrote to, its own memory limit in its own cgroup) and
// that its output and exit code come back; afterwards nothing of them remains. Prints the
// time per container with and without the pool (not asserted: a shared machine).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lib, stageProcesses } from '../helpers/library';
import type { StagePool as Pool } from '../../lib/container/pool';
import { cgroupParents, boxCgroups, boxMounts, stateEntries, until, CG_PARENT, BOX } from '../helpers/box';

const { StagePool, start, run, ContainerError } = lib;
const N = 100, PARALLEL = 4;

// PID 1 is sh; ps is its only other process; /canary must be new; then wait for stdin's EOF
// (the test reads the cgroup from the host meanwhile) and exit with a status of its own.
const SCRIPT = 'echo "host $(hostname)"; ps -o pid,comm; [ -e /canary ] && echo LEAK; echo "$N" > /canary; cat >/dev/null; exit $((N % 7))';

/** The container's memory cgroup dir under this suite's parent, and the limit file in it. */
function memoryLimit(id: string): string {
  for (const parent of cgroupParents()) {
    for (const f of ['memory.limit_in_bytes', 'memory.max']) {
      const file = path.join(parent, id, f);
      if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
    }
  }
  throw new Error(`no memory cgroup for ${id}`);
}

async function one(i: number, pool: Pool | false): Promise<void> {
  const mib = 32 + (i % 4) * 16;
  const c = await start({ image: 'busybox', command: ['sh', '-c', SCRIPT], env: { N: String(i) }, memory: `${mib}m`, stdin: true, rm: true }, { pool });
  let out = '', err = '';
  c.stdout.on('data', (d) => { out += d; });
  c.stderr.on('data', (d) => { err += d; });
  // its PID 1 (host pid) is in its own cgroup, which has its own limit
  const cg = fs.readFileSync(`/proc/${c.pid}/cgroup`, 'utf8');
  assert.ok(cg.split('\n').some((l) => /memory/.test(l.split(':')[1] ?? '') ? l.endsWith(`/${CG_PARENT}/${c.id}`) : false) || /^0::/.test(cg), `container ${i}: ${cg}`);
  assert.is(memoryLimit(c.id), String(mib * 1024 * 1024), `container ${i}'s memory limit`);
  c.stdin!.end();
  const status = await c.wait();
  assert.is(status, i % 7, `container ${i}: ${out}${err}`);
  const lines = out.trim().split('\n');
  assert.is(lines[0], `host ${c.id.slice(0, 12)}`, `container ${i}: its own hostname`);
  const procs = lines.slice(2).map((l) => l.trim().split(/\s+/)); // after ps's header
  assert.is(procs.length, 2, `container ${i} sees only its own processes:\n${out}`);
  assert.equal(procs[0], ['1', 'sh'], `container ${i}: PID 1 is its command`);
  assert.is(procs[1][1], 'ps');
  assert.not.ok(out.includes('LEAK'), `container ${i} found another's /canary`);
  assert.is(err, '');
}

async function batch(count: number, pool: Pool | false): Promise<number> {
  let next = 0;
  const t = Date.now();
  await Promise.all(Array.from({ length: PARALLEL }, async () => { while (next < count) await one(next++, pool); }));
  return (Date.now() - t) / count;
}

test(`${N} containers from one process, ${PARALLEL} at a time, through a pool: each isolated, each cleaned up`, async () => {
  const pool = new StagePool(PARALLEL);
  let pooled: number;
  try {
    pooled = await batch(N, pool);
  } finally {
    await pool.close();
  }
  const cold = await batch(20, false);
  console.log(`  library, ${PARALLEL} at a time: ${pooled.toFixed(0)} ms per container with a pool of ${PARALLEL}, ${cold.toFixed(0)} ms without`);
  assert.equal(stateEntries(), [], 'no container record left');
  assert.equal(boxCgroups(), [], 'no cgroup left');
  assert.equal(boxMounts(), [], 'no mount left');
  await until(() => stageProcesses().length === 0, 5000, 'no stage process left');
});

test('run(): output and status collected; argv as box run takes it; errors are ContainerError with a code', async () => {
  const r = await run(['--rm', '-e', 'A=1', 'busybox', 'sh', '-c', 'echo $A; echo e >&2; exit 3']);
  assert.is(r.exitCode, 3);
  assert.is(r.stdout.toString(), '1\n');
  assert.is(r.stderr.toString(), 'e\n');
  assert.is(r.oomKilled, false);
  for (const [what, code] of [[['--memroy', '1m', 'busybox'], 'invalid'], [{ image: 'busybox', command: ['/nonexistent'], rm: true }, 'setup']] as const) {
    try {
      await run(what as any);
      assert.unreachable(JSON.stringify(what));
    } catch (e: any) {
      assert.instance(e, ContainerError);
      assert.is(e.code, code, e.message);
    }
  }
  assert.equal(stateEntries(), []);
});

test('an idle pool does not keep a Node process alive, and its stages end with the process', async () => {
  const { spawnSync } = require('node:child_process');
  // the process waits (a timer of its own) until its stages booted, prints their pids, and has nothing left to do
  const script = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'container', 'launch'))}).useBundle(${JSON.stringify(BOX)});
    const fs = require('node:fs');
    const pool = require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'library'))}).usePool(2);
    const waiting = (pid) => { try { return /^0 0x3 /.test(fs.readFileSync('/proc/' + pid + '/syscall', 'utf8')); } catch { return false; } };
    const t = setInterval(() => { if (pool.pids.every(waiting)) { console.log(JSON.stringify(pool.pids)); clearInterval(t); } }, 20);`;
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'box-lib-'));
  try {
    fs.writeFileSync(path.join(dir, 'idle.js'), script);
    const r = spawnSync(process.execPath, [path.join(dir, 'idle.js')], { timeout: 30000, encoding: 'utf8' });
    assert.is(r.status, 0, `${r.signal ?? ''} ${r.stderr}`);
    const pids: number[] = JSON.parse(r.stdout);
    assert.is(pids.length, 2);
    for (const pid of pids) await until(() => !fs.existsSync(`/proc/${pid}`), 5000, `stage ${pid} gone with its owner`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
