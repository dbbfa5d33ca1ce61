// A process that owns a StagePool and nothing else (test 33): prints its idle stages' pids
// as JSON once each waits for a config, then idles until killed.
// argv: K. Environment: BOX_ROOT; BOX_SELF: the script stages re-execute.
const path = require('node:path');
const fs = require('node:fs');
require(path.join(__dirname, '..', '..', 'node_modules', 'tsx', 'dist', 'cjs', 'index.cjs'));
process.argv[1] = process.env.BOX_SELF;
const { StagePool } = require('../../lib/container/pool');
const pool = new StagePool(Number(process.argv[2]));
const waiting = (pid) => { try { return /^0 0x3 /.test(fs.readFileSync(`/proc/${pid}/syscall`, 'utf8')); } catch { return false; } };
const timer = setInterval(() => {
  if (!pool.pids.every(waiting)) return;
  process.stdout.write(JSON.stringify(pool.pids) + '\n');
  clearInterval(timer);
  setInterval(() => {}, 60000); // stay: the idle pool itself keeps nothing alive
}, 20);
