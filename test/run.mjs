// Runs the uvu suites (unit, then integration) and ends with one plain summary line,
// "N passed, N failed, N skipped", that CI reads. Integration suites need root; without
// it they are skipped with the reason printed, and counted as skipped, never as passed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';

const top = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const uvu = path.join(top, 'node_modules', 'uvu', 'bin.js');
const filter = process.argv[2] ? [process.argv[2]] : [];
let passed = 0, failed = 0, skipped = 0, code = 0;
// One private store for every suite of this run (test/helpers/box.ts reads it), removed at the
// end even when a filter left out 99-leaks, which otherwise removes it.
const ownRoot = !process.env.BOX_TEST_ROOT;
if (ownRoot) process.env.BOX_TEST_ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'box-test-'));

for (const dir of ['test/unit', 'test/integration']) {
  if (dir.endsWith('integration') && process.geteuid() !== 0) {
    console.log(`\n# ${dir}: skipped — needs root (namespaces, mounts, cgroups): run 'sudo npm test'`);
    skipped++;
    continue;
  }
  console.log(`\n# ${dir}`);
  const r = spawnSync(process.execPath, [uvu, '-r', 'tsx/cjs', dir, ...filter], { cwd: top, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } });
  process.stdout.write(r.stdout);
  const plain = r.stdout.replace(/\x1b\[[0-9;]*m/g, ''); // uvu colours its summary
  const num = (k) => Number((plain.match(new RegExp(`${k}:\\s+(\\d+)`)) || [])[1] || 0);
  const total = num('Total'), ok = num('Passed'), skip = num('Skipped');
  passed += ok; skipped += skip; failed += total - ok; // uvu's Total leaves skipped tests out
  if (r.status !== 0) { code = 1; if (total === ok) failed++; }
}
if (ownRoot) {
  if (sweep()) code = 1;
  fs.rmSync(process.env.BOX_TEST_ROOT, { recursive: true, force: true });
}
if (passed === 0) code = 1;

/**
 * A suite that crashed (uvu "Exiting early") skips its own clean-up and 99-leaks may not run:
 * remove what the store still holds — its containers (and with the last one its supervisor,
 * anchor and cgroups) — before the store's directory goes, so that a failed run does not leave
 * them on the machine with no record to find them by. True when there was something to remove.
 */
function sweep() {
  const box = path.join(top, 'box');
  if (process.geteuid() !== 0 || !fs.existsSync(box)) return false;
  const env = { ...process.env, BOX_ROOT: process.env.BOX_TEST_ROOT };
  const ids = spawnSync(box, ['ps', '-aq', '--no-trunc'], { env, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (!ids.length) return false;
  console.log(`\nwarning: ${ids.length} container(s) left in the test store ${process.env.BOX_TEST_ROOT}: removing them`);
  spawnSync(box, ['rm', '-f', ...ids], { env, stdio: 'inherit' });
  // the supervisor exits once it supervises nothing; its anchor record goes with it
  const anchors = path.join(process.env.BOX_TEST_ROOT, 'run', 'anchors');
  for (let t = 0; t < 150; t++) {
    try { if (fs.readdirSync(anchors).length === 0) break; } catch { break; }
    spawnSync('sleep', ['0.1']);
  }
  return true;
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code);
