// -u/--user: uid[:gid] or name[:group], looked up in the image's /etc/passwd and /etc/group.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BoxError } from '../libc/errors';

export interface User { uid: number; gid: number; groups: number[]; name?: string; home: string }

function table(rootfs: string, file: string): string[][] {
  try {
    return fs.readFileSync(path.join(rootfs, 'etc', file), 'utf8').split('\n').filter(Boolean).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

export function resolveUser(spec: string | undefined, rootfs: string): User {
  const passwd = table(rootfs, 'passwd');
  const groupTable = table(rootfs, 'group');
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
