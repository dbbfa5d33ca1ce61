// The suite on a shared, loaded host (issue 12): two whole runs at once, each in its own store
// (test/run.mjs makes one per run), then one run while another store on the host keeps three
// detached containers running, which must still be running, untouched, when the run ends.
// Prints each run's summary line and exits non-zero if any run failed.
//   npm run test:shared            (builds ./box once, as root)
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';

const top = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const box = path.join(top, 'box');
const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'box-shared-logs-'));
// Each run makes its own store: none may inherit one from this shell.
const env = { ...process.env };
delete env.BOX_ROOT;
delete env.BOX_TEST_ROOT;

/** One whole run of test/run.mjs, its output to a log file; resolves to its summary. */
function suite(name) {
  const log = path.join(logs, `${name}.log`);
  const out = fs.openSync(log, 'w');
  const t0 = Date.now();
  const p = spawn(process.execPath, [path.join(top, 'test', 'run.mjs')], { cwd: top, env, stdio: ['ignore', out, out] });
  return new Promise((resolve) => p.on('exit', (code) => {
    fs.closeSync(out);
    const text = fs.readFileSync(log, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
    const summary = (text.match(/^\d+ passed, \d+ failed, \d+ skipped$/m) || ['no summary line'])[0];
    const failures = [...text.matchAll(/^\s*FAIL\s+(.*)$/gm)].map((m) => m[1]);
    resolve({ name, code, summary, failures, log, secs: Math.round((Date.now() - t0) / 1000) });
  }));
}

function report(r) {
  console.log(`${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.name}: ${r.summary} (${r.secs} s, exit ${r.code}) — ${r.log}`);
  for (const f of r.failures) console.log(`       ${f}`);
  return r.code === 0;
}

/** box in the other store. */
const other = (root, args) => spawnSync(process.execPath, ['--', box, ...args], { env: { ...env, BOX_ROOT: root }, encoding: 'utf8' });

if (process.geteuid() !== 0) {
  console.error('test:shared needs root (the integration suites do): sudo npm run test:shared');
  process.exit(1);
}
const built = spawnSync('npm', ['run', 'build'], { cwd: top, stdio: 'inherit' });
if (built.status !== 0) process.exit(1);

let ok = true;
console.log(`\n# two runs at once, each in its own store (logs in ${logs})`);
for (const r of await Promise.all([suite('parallel-1'), suite('parallel-2')])) ok = report(r) && ok;

console.log('\n# one run while another store runs three detached containers');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'box-other-store-'));
const ids = [];
const cleanup = () => {
  if (ids.length) other(root, ['rm', '-f', ...ids.splice(0)]);
  fs.rmSync(root, { recursive: true, force: true });
};
process.on('SIGINT', () => { cleanup(); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); process.exit(143); });
try {
  for (let i = 0; i < 3; i++) {
    const r = other(root, ['run', '-d', 'busybox', 'sh', '-c', 'while :; do sleep 1; done']);
    if (r.status !== 0) throw new Error(`the other store's container did not start: ${r.stderr}`);
    ids.push(r.stdout.trim());
  }
  ok = report(await suite('beside-another-store')) && ok;
  // The run must have left the other store's containers alone: all three still running.
  const running = other(root, ['ps', '-q', '--no-trunc']).stdout.trim().split('\n').filter(Boolean);
  const untouched = ids.every((id) => running.includes(id));
  console.log(`${untouched ? 'ok  ' : 'FAIL'} the other store's 3 containers ${untouched ? 'still run' : `were touched: running ${running.length} of ${ids.join(' ')}`}`);
  ok = untouched && ok;
} finally {
  cleanup();
}
console.log(ok ? '\nall runs green' : '\nsome run failed');
process.exit(ok ? 0 : 1);
