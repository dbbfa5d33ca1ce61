// Starting the stage as PID 1 of a new pid namespace, without forking Node: unshare
// CLONE_NEWPID on the main thread (it applies to children made afterwards), spawn
// a fresh Node running this same file's `__init`, then setns straight back, because a
// thread in an unshared pid ns cannot create threads and libuv makes its pool lazily.
import * as fs from 'node:fs';
import { spawn, ChildProcess, StdioOptions } from 'node:child_process';
import * as libc from '../libc';
import { CLONE } from '../libc/constants';

/** The script to re-execute: the bundle itself, or box.ts under tsx in development. */
export function selfScript(): string {
  return fs.realpathSync(process.argv[1]);
}

export function spawnInNewPidNs(verb: string, stdio: StdioOptions): ChildProcess {
  const pidns = fs.openSync('/proc/self/ns/pid', 'r');
  libc.unshare(CLONE.NEWPID);
  try {
    return spawn(process.execPath, [...process.execArgv, selfScript(), verb], { stdio });
  } finally {
    libc.setns(pidns, CLONE.NEWPID, 'pid (back to the host)');
    fs.closeSync(pidns);
  }
}

/**
 * `exec`: spawn the stage inside an existing container's pid namespace. setns(CLONE_NEWPID)
 * only affects children made afterwards, so box enters, spawns, and goes straight back.
 */
export function spawnInPidNsOf(pid: number, verb: string, stdio: StdioOptions): ChildProcess {
  const own = fs.openSync('/proc/self/ns/pid', 'r');
  const target = fs.openSync(`/proc/${pid}/ns/pid`, 'r');
  try {
    libc.setns(target, CLONE.NEWPID, `pid of ${pid}`);
    try {
      return spawn(process.execPath, [...process.execArgv, selfScript(), verb], { stdio });
    } finally {
      libc.setns(own, CLONE.NEWPID, 'pid (back to the host)');
    }
  } finally {
    fs.closeSync(own);
    fs.closeSync(target);
  }
}
