// Runs the uvu suites (unit, then integration) and ends with one plain summary line,
// "N passed, N failed, N skipped", that CI reads. Integration suites need root; without
// it they are skipped with the reason printed, and counted as skipped, never as passed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const top = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const uvu = path.join(top, 'node_modules', 'uvu', 'bin.js');
const filter = process.argv[2] ? [process.argv[2]] : [];
let passed = 0, failed = 0, skipped = 0, code = 0;

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
if (passed === 0) code = 1;
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code);
