// -u/--user: uid[:gid] or name[:group], looked up in the image's /etc/passwd and /etc/group.
// The files are the image's: resolved inside its root (an `/etc/passwd -> /etc/shadow` symlink
// must not make box read the host's), opened without blocking (a FIFO), capped in size.
// Parsing is separate from reading so that exec can hand in text read another way.
import * as fs from 'node:fs';
import { BoxError } from '../libc/errors';
import { readFileIn } from '../mount/resolve';

export interface User { uid: number; gid: number; groups: number[]; name?: string; home: string }
export interface UserDb { passwd: string; group: string }

const MAX_DB = 4 << 20; // bigger than any real passwd file; reading stops there

/** The image's passwd and group as text ("" when missing). Throws for a FIFO, a device, a huge file. */
export function readUserDb(rootfs: string): UserDb {
  const read = (file: string) => {
    try {
      return readFileIn(rootfs, `/etc/${file}`, MAX_DB)?.toString('utf8') ?? '';
    } catch (e: any) {
      throw new BoxError(`box run: cannot read /etc/${file} of the image: ${e.message}`);
    }
  };
  return { passwd: read('passwd'), group: read('group') };
}

/**
 * The container's own passwd and group, read by a process whose root already is the
 * container's (the exec stage after setns): the kernel keeps every lookup inside, but the
 * container may still have put a FIFO or a device there, so open without blocking and read
 * only a regular file, at most MAX_DB bytes. Anything else counts as missing. (Not through
 * /proc/self/fd, which the exec stage, outside the container's pid namespace, cannot use.)
 */
export function readUserDbInside(): UserDb {
  const read = (file: string) => {
    let fd: number;
    try { fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK); } catch { return ''; }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile() || st.size > MAX_DB) return '';
      const buf = Buffer.alloc(st.size);
      let n = 0;
      for (let r; n < buf.length && (r = fs.readSync(fd, buf, n, buf.length - n, n)) > 0;) n += r;
      return buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  };
  return { passwd: read('/etc/passwd'), group: read('/etc/group') };
}

const table = (text: string): string[][] => text.split('\n').filter(Boolean).map((l) => l.split(':'));

export function resolveUser(spec: string | undefined, rootfs: string, groupAdd: string[] = []): User {
  return parseUser(spec, readUserDb(rootfs), 'run', groupAdd);
}

/** `groupAdd`: --group-add's names (looked up in the group file) or numbers, added to the groups. */
export function parseUser(spec: string | undefined, db: UserDb, verb = 'run', groupAdd: string[] = []): User {
  const passwd = table(db.passwd);
  const groupTable = table(db.group);
  const [u, g] = (spec || '0').split(':');
  const isNum = (s: string) => /^\d+$/.test(s);
  let uid: number, gid: number, name: string | undefined, home = '/';
  const entry = passwd.find((p) => (isNum(u) ? p[2] === u : p[0] === u));
  if (isNum(u)) uid = Number(u);
  else if (entry) uid = Number(entry[2]);
  else throw new BoxError(`box ${verb}: unable to find user ${u}: no matching entries in passwd file`);
  if (entry) { name = entry[0]; home = entry[5] || '/'; }
  gid = entry ? Number(entry[3]) : 0;
  if (g !== undefined) {
    if (isNum(g)) gid = Number(g);
    else {
      const ge = groupTable.find((x) => x[0] === g);
      if (!ge) throw new BoxError(`box ${verb}: unable to find group ${g}: no matching entries in group file`);
      gid = Number(ge[2]);
    }
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new BoxError(`box ${verb}: --user "${spec}": id out of range`);
  // Supplementary groups as Docker sets them (moby's getUser, runc's GetExecUser): the primary
  // gid itself (else a process keeps whatever groups box had: CVE-2022-36109), then, unless a
  // group was named with -u USER:GROUP, every group whose member list names the user, then --group-add.
  const members = name && g === undefined ? groupTable.filter((x) => (x[3] || '').split(',').includes(name!)).map((x) => Number(x[2])) : [];
  const added = groupAdd.map((a) => {
    if (isNum(a)) return Number(a);
    const ge = groupTable.find((x) => x[0] === a);
    if (!ge) throw new BoxError(`box ${verb}: unable to find group ${a}: no matching entries in group file`);
    return Number(ge[2]);
  });
  const groups = [...new Set([gid, ...members, ...added])].filter((n) => Number.isInteger(n) && n >= 0 && n <= 0xfffffffe);
  return { uid, gid, groups, name, home: uid === 0 && !entry ? '/root' : home };
}
