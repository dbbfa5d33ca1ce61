// The cgroup v2 device program (eBPF), loaded and attached for real. On a hybrid host it is
// checked on the unified hierarchy, where the kernel runs it just as on a pure v2 host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { needs } from '../helpers/box';
import { discover } from '../../lib/cgroup/discover';
import { restrictDevices } from '../../lib/cgroup/v2';

const v2 = discover().v2;

/** Run a shell in a fresh cgroup v2 directory (with or without the program) and try devices. */
async function tryDevices(withProgram: boolean): Promise<string> {
  const dir = path.join(v2!.mountpoint, `box-devtest-${process.pid}-${withProgram ? 1 : 0}`);
  fs.mkdirSync(dir);
  try {
    if (withProgram) restrictDevices(dir);
    const sh = spawn('sh', ['-c', 'read go; (exec 3</dev/null) 2>/dev/null && echo null; (exec 3</dev/kmsg) 2>/dev/null && echo kmsg; (exec 3<>/dev/tty) 2>/dev/null; true'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    sh.stdout!.on('data', (d) => { out += d; });
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(sh.pid));
    sh.stdin!.end('go\n');
    await new Promise((r) => sh.on('close', r));
    return out;
  } finally {
    for (let i = 0; i < 50; i++) { try { fs.rmdirSync(dir); break; } catch { await new Promise((r) => setTimeout(r, 20)); } }
  }
}

needs(test, !!v2 && fs.existsSync('/dev/kmsg'), 'no cgroup v2 hierarchy (or no /dev/kmsg) on this host')('v2 device program: allowed devices open, others are refused', async () => {
  assert.is(await tryDevices(false), 'null\nkmsg\n'); // control: without it, /dev/kmsg (1:11) opens
  assert.is(await tryDevices(true), 'null\n');         // with Docker's defaults attached, only /dev/null
});

test.run();
