// box as a library inside the test process (lib/library.ts), on this run's private store.
// The store and the cgroup parent are fixed when lib/state/paths and lib/cgroup/manager are
// first imported, so BOX_ROOT is set before that, and checked: a suite that imported them
// earlier in this process without it would otherwise point the library at the shared
// /var/lib/box. Stages start from the built bundle, not box.ts under tsx (~700 ms a stage).
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { BOX, STATE, CG_PARENT } from './box';

process.env.BOX_ROOT = STATE;
require('../../lib/container/launch').useBundle(BOX);

export const lib: typeof import('../../lib/library') = require('../../lib/library');
assert.is(require('../../lib/state/paths').ROOT, STATE, 'the library uses this run\'s store');
assert.is(require('../../lib/cgroup/manager').PARENT, CG_PARENT, 'the library uses this run\'s cgroup parent');

/** Blocked reading its channel (fd 3): a stage that booted and waits for its config. */
export function waiting(pid: number): boolean {
  try { return /^0 0x3 /.test(fs.readFileSync(`/proc/${pid}/syscall`, 'utf8')); } catch { return false; }
}

/** Still a process (not even a zombie left). */
export function exists(pid: number): boolean {
  return fs.existsSync(`/proc/${pid}`);
}

/** A pid's pid namespace (inode) and its pid in each nested namespace, from the host's /proc. */
export function pidNs(pid: number): { ns: string; nspid: number[] } {
  const ns = fs.readlinkSync(`/proc/${pid}/ns/pid`);
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('NSpid:'))!;
  return { ns, nspid: line.split(/\s+/).slice(1).map(Number) };
}

/** Stage and supervisor processes of this run's store still alive (zombies awaiting their reaper left out). */
export function stageProcesses(): number[] {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((p) => {
    try {
      if (/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${p}/stat`, 'utf8'))) return false;
      if (!/\b__init\b|\b__exec\b|box-init|box-supervise/.test(fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '))) return false;
      return fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(`BOX_ROOT=${STATE}`);
    } catch { return false; }
  });
}
