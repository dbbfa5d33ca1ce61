// -u/--user: uid[:gid] or name[:group], looked up in the image's /etc/passwd and /etc/group.
// The files are the image's: resolved inside its root (an `/etc/passwd -> /etc/shadow` symlink
// must not make box read the host's), opened without blocking (a FIFO), capped in size.
// Parsing is separate from reading so that exec can hand in text read another way.
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

const table = (text: string): string[][] => text.split('\n').filter(Boolean).map((l) => l.split(':'));

export function resolveUser(spec: string | undefined, rootfs: string): User {
  return parseUser(spec, readUserDb(rootfs));
}

export function parseUser(spec: string | undefined, db: UserDb): User {
  const passwd = table(db.passwd);
  const groupTable = table(db.group);
  const [u, g] = (spec || '0').split(':');
  const isNum = (s: string) => /^\d+$/.test(s);
  let uid: number, gid: number, name: string | undefined, home = '/';
  const entry = passwd.find((p) => (isNum(u) ? p[2] === u : p[0] === u));
  if (isNum(u)) uid = Number(u);
  else if (entry) uid = Number(entry[2]);
  else throw new BoxError(`box run: unable to find user ${u}: no matching entries in passwd file`);
  if (entry) { name = entry[0]; home = entry[5] || '/'; }
  gid = entry ? Number(entry[3]) : 0;
  if (g !== undefined) {
    if (isNum(g)) gid = Number(g);
    else {
      const ge = groupTable.find((x) => x[0] === g);
      if (!ge) throw new BoxError(`box run: unable to find group ${g}: no matching entries in group file`);
      gid = Number(ge[2]);
    }
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new BoxError(`box run: --user "${spec}": id out of range`);
  // Supplementary groups: those that list the user by name (as initgroups does).
  const groups = name ? groupTable.filter((x) => (x[3] || '').split(',').includes(name!)).map((x) => Number(x[2])).filter((n) => n !== gid) : [];
  return { uid, gid, groups, name, home: uid === 0 && !entry ? '/root' : home };
}
