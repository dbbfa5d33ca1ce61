// --security-opt, with Docker's spellings: seccomp=unconfined, seccomp=FILE (also the older
// `seccomp:FILE`), no-new-privileges[=|:true|false]. A profile file is read and checked here,
// at `run`, so a bad one is a one-line error naming the file and the field before anything
// is created; the container keeps what was read then, whatever happens to the file later.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BoxError } from '../libc/errors';
import { parseProfile, ProfileError } from '../seccomp/profile';
import { SeccompChoice } from '../seccomp';

export interface Security { seccomp: SeccompChoice; noNewPrivileges: boolean }

export function parseSecurityOpts(opts: string[], verb = 'run'): Security {
  const out: Security = { seccomp: { kind: 'builtin' }, noNewPrivileges: false };
  for (const opt of opts) {
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt);
    const [key, value] = m ? [m[1], m[2]] : ['', undefined];
    if (key === 'no-new-privileges') {
      if (value !== undefined && value !== 'true' && value !== 'false') throw new BoxError(`box ${verb}: --security-opt "${opt}": no-new-privileges takes true or false`);
      out.noNewPrivileges = value !== 'false';
    } else if (key === 'seccomp' && value) {
      out.seccomp = value === 'unconfined' ? { kind: 'unconfined' } : readProfile(value, verb);
    } else {
      throw new BoxError(`box ${verb}: --security-opt "${opt}": not supported (box knows seccomp=unconfined, seccomp=PROFILE.json, no-new-privileges)`);
    }
  }
  return out;
}

function readProfile(file: string, verb: string): SeccompChoice {
  const abs = path.resolve(file);
  let text: string;
  try {
    // O_NONBLOCK: a FIFO given as the profile must not hang box; only a regular file is read
    const fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      if (!fs.fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: fs.fstatSync(fd).isDirectory() ? 'EISDIR' : 'ENOTREG' });
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (e: any) {
    throw new BoxError(`box ${verb}: seccomp profile ${abs}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message}`);
  }
  try {
    return { kind: 'file', path: abs, profile: parseProfile(text) };
  } catch (e: any) {
    if (e instanceof ProfileError) throw new BoxError(`box ${verb}: seccomp profile ${abs}: ${e.message}`);
    throw e;
  }
}

/** Docker's HostConfig.SecurityOpt for inspect: the profile in use is always named ("builtin" = Docker's default). */
export function securityOptStrings(s: { seccomp: string; noNewPrivileges: boolean }): string[] {
  return [`seccomp=${s.seccomp}`, ...(s.noNewPrivileges ? ['no-new-privileges'] : [])];
}
